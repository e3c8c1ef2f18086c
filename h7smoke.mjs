import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createInbox } from '@nats-io/nats-core';
const nc = await connect({ servers: '127.0.0.1:14222' });
console.log('max_payload', nc.info.max_payload);
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
try { await jsm.streams.delete('s1'); } catch {}
const si = await jsm.streams.add({ name: 's1', subjects: ['d.s1'], allow_direct: true, duplicate_window: 120e9 });
console.log('first', si.state.first_seq, si.state.last_seq);
let t = performance.now();
const acks = [];
const N = 2000;
acks.push(js.publish('d.s1', new Uint8Array(100), { msgID: 'b0', expect: { lastSequence: 0 } }));
for (let i = 1; i < N; i++) acks.push(js.publish('d.s1', new Uint8Array(100), { msgID: 'b' + i, expect: { lastMsgID: 'b' + (i - 1) } }));
const r = await Promise.all(acks);
console.log('pub', N, (performance.now() - t).toFixed(1), 'ms', r[0].seq, r[N - 1].seq, r[5].duplicate);
// duplicate
const dup = await js.publish('d.s1', new Uint8Array(100), { msgID: 'b5', expect: { lastMsgID: 'b4' } });
console.log('dup', dup);
try { await js.publish('d.s1', new Uint8Array(1), { msgID: 'x', expect: { lastSequence: 5 } }); } catch (e) { console.log('wrong seq err', e.constructor.name, e.message, e.code, e.api_error); }
try { await js.publish('d.s1', new Uint8Array(1), { msgID: 'y', expect: { lastMsgID: 'nope' } }); } catch (e) { console.log('wrong msgid err', e.constructor.name, e.message, e.code, e.api_error); }
t = performance.now();
const gets = [];
for (let s = 1; s <= 256; s++) gets.push(jsm.streams.getMessage('s1', { seq: s }));
const g = await Promise.all(gets);
console.log('getMessage x256', (performance.now() - t).toFixed(1), g[0].seq, g[0].time, g[0].timestamp, g[0].data.length, Object.keys(g[0]));
t = performance.now();
const dgets = [];
for (let s = 1; s <= 256; s++) dgets.push(jsm.direct.getMessage('s1', { seq: s }));
const dg = await Promise.all(dgets);
console.log('direct x256', (performance.now() - t).toFixed(1), dg[0].seq, dg[0].timestamp, dg[0].data.length);
console.log('missing', await jsm.streams.getMessage('s1', { seq: 99999 }).catch((e) => 'err ' + e.message));
console.log('missing direct', await jsm.direct.getMessage('s1', { seq: 99999 }).catch((e) => 'err ' + e.message));
// by start time consumer info
const mid = new Date(Date.now() - 10);
const ci = await jsm.consumers.add('s1', { deliver_policy: DeliverPolicy.StartTime, opt_start_time: mid.toISOString(), ack_policy: AckPolicy.None, inactive_threshold: 5e9, mem_storage: true });
console.log('ci delivered', ci.delivered, ci.num_pending);
const ci2 = await jsm.consumers.add('s1', { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Date.now() + 1000).toISOString(), ack_policy: AckPolicy.None, inactive_threshold: 5e9, mem_storage: true });
console.log('ci2 delivered', ci2.delivered, ci2.num_pending);
const ci3 = await jsm.consumers.add('s1', { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(0).toISOString(), ack_policy: AckPolicy.None, inactive_threshold: 5e9, mem_storage: true });
console.log('ci3 delivered', ci3.delivered, ci3.num_pending);
// push headers only waiter
const inbox = createInbox();
const sub = nc.subscribe(inbox, { max: 1 });
t = performance.now();
const w = jsm.consumers.add('s1', { deliver_subject: inbox, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: N + 2, ack_policy: AckPolicy.None, headers_only: true, inactive_threshold: 5e9, mem_storage: true, num_replicas: 1 });
(async () => { for await (const m of sub) { console.log('notified', m.subject, m.reply, m.headers?.toString(), (performance.now() - t).toFixed(1)); } })();
await w;
setTimeout(() => js.publish('d.s1', new Uint8Array(5)), 50);
await new Promise((r) => setTimeout(r, 300));
// kv
const kvm = new Kvm(nc);
const kv = await kvm.create('claims_t', { ttl: 2000, storage: 'memory' });
const rev = await kv.create('a.b', 'x');
console.log('create rev', rev);
try { await kv.create('a.b', 'y'); } catch (e) { console.log('create exists err', e.constructor.name, e.message, e.code); }
console.log('update', await kv.update('a.b', 'z', rev));
try { await kv.update('a.b', 'z', rev); } catch (e) { console.log('update wrong rev', e.constructor.name, e.message); }
await kv.delete('a.b');
console.log('after delete get', (await kv.get('a.b'))?.operation);
console.log('create after delete', await kv.create('a.b', 'w'));
await new Promise((r) => setTimeout(r, 3500));
console.log('after ttl get', await kv.get('a.b'));
console.log('create after ttl', await kv.create('a.b', 'q'));
const keys = []; for await (const k of await kv.keys()) keys.push(k); console.log('keys', keys);
const st = await jsm.streams.info('s1');
console.log(st.state);
await nc.close();
