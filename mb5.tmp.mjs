const mod = await import(process.argv[2]);
const f = mod.checkJsonSyntax;
const N=200000;
const PADS = Array.from({ length: 129 }, (_, k) => 'x'.repeat(k));
function metaOf(i){const head=`{"i":${i},"energy":${i%100},"topic":"bench","partition":0,"kind":"reading","source":"sensor-${i % 97}","unit":"kWh","pad":"`;return head + PADS[126 - head.length] + '"}';}
const bufs=[];for(let i=0;i<N;i++)bufs.push(Buffer.from(metaOf(i)));
const other=[];for(let i=0;i<N;i++)other.push(Buffer.from(JSON.stringify({a:[1.5,-2,true,null,{b:"x y\\n"}],t:1e3, s:"héllo wörld", n:i},null,i%2?1:0)));
const set = process.argv[3]==='bench'?bufs:other;
const ts=[];for(let r=0;r<15;r++){const t=process.hrtime.bigint();for(const b of set)f(b);ts.push(Number(process.hrtime.bigint()-t)/1e6);}
ts.sort((a,b)=>a-b);console.log(process.argv[2].slice(0,12), process.argv[3], ts[0].toFixed(1), ts[7].toFixed(1));
