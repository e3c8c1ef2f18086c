// Child process: creates and deletes topic `name` in a loop for `ms` milliseconds (ignoring the errors other
// processes doing the same cause), then prints DONE <creates> <deletes>. argv: root name ms
import { Driver, DiasporaError } from '../../../lib/index.js';

const [root, name, msText] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root });
const until = Date.now() + Number(msText);
let creates = 0;
let deletes = 0;
while (Date.now() < until) {
  try {
    await driver.createTopic(name!, { options: { num_partitions: 2 } });
    creates++;
  } catch (err) {
    if (!(err instanceof DiasporaError)) throw err;
  }
  await new Promise((r) => setTimeout(r, Math.random() * 10)); // a window for the other process to open it
  try {
    await driver.deleteTopic(name!);
    deletes++;
  } catch (err) {
    if (!(err instanceof DiasporaError)) throw err;
  }
}
await driver.close();
await new Promise((resolve) => process.stdout.write(`DONE ${creates} ${deletes}\n`, resolve));
