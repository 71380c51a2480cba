// A test in another language drives the fake cluster through `pvemock serve` alone: it builds the cluster from a
// scenario, powers a node off, moves the clock and sees HA recover the VM elsewhere. Node's own test runner and
// fetch, nothing to install:
//
//   pvemock serve --port 0 --clock manual --cert-dir ./tls      (prints the URL)
//   PVEMOCK_URL=https://127.0.0.1:PORT NODE_EXTRA_CA_CERTS=./tls/ca.pem node --test examples/node/
//
// (examples/node/run.sh does both; CI runs it where node is installed.)
import { test } from "node:test";
import assert from "node:assert/strict";

const base = process.env.PVEMOCK_URL;
const password = process.env.PVEMOCK_PASSWORD ?? "pvemock";

const SCENARIO = `
cluster: {name: node-example, version: "9.1"}
nodes:
  - {name: pve1}
  - {name: pve2}
  - {name: pve3}
storage:
  - {storage: ceph, type: rbd, shared: true, content: [images]}
guests:
  - {vmid: 100, type: qemu, node: pve2, name: app01, status: running, storage: ceph}
users:
  - {userid: root@pam, password: ${password}}
ha:
  resources:
    - {sid: "vm:100", state: started}
`;

async function login() {
  const answer = await fetch(`${base}/api2/json/access/ticket`, {
    method: "POST",
    body: new URLSearchParams({ username: "root@pam", password }),
  });
  assert.equal(answer.status, 200);
  const { data } = await answer.json();
  return { Cookie: `PVEAuthCookie=${encodeURIComponent(data.ticket)}`, CSRFPreventionToken: data.CSRFPreventionToken };
}

async function call(auth, method, path, body, type = "application/json") {
  const options = { method, headers: { ...auth } };
  if (body !== undefined) {
    options.body = type === "application/json" ? JSON.stringify(body) : body;
    options.headers["Content-Type"] = type;
  }
  const answer = await fetch(`${base}${path}`, options);
  const text = await answer.text();
  assert.equal(answer.status, 200, `${method} ${path}: ${answer.status} ${text}`);
  return answer.headers.get("content-type").startsWith("application/json") ? JSON.parse(text) : text;
}

async function vm100(auth) {
  const { data } = await call(auth, "GET", "/api2/json/cluster/resources?type=vm");
  return data.find((row) => row.vmid === 100);
}

test("a lost node's HA guest is recovered on another node", async () => {
  let auth = await login();
  const loaded = await call(auth, "POST", "/pvemock-api/scenario", SCENARIO, "application/yaml");
  assert.equal(loaded.nodes, 3);
  auth = await login(); // a scenario load replaces the users: log in again

  assert.equal((await vm100(auth)).node, "pve2");
  const node = await call(auth, "POST", "/pvemock-api/nodes/pve2/power-off");
  assert.equal(node.online, false);

  await call(auth, "POST", "/pvemock-api/clock/advance", { seconds: 70 });
  assert.equal((await vm100(auth)).hastate, "fence");

  await call(auth, "POST", "/pvemock-api/clock/advance", { seconds: 120 });
  const recovered = await vm100(auth);
  assert.notEqual(recovered.node, "pve2");
  assert.equal(recovered.status, "running");

  const { requests } = await call(auth, "GET", "/pvemock-api/requests?path=/cluster/resources");
  assert.ok(requests.length >= 3);
  assert.ok(!JSON.stringify(await call(auth, "GET", "/pvemock-api/requests")).includes(password));
});

test("the control API is refused without root's credentials and never answers under /api2", async () => {
  assert.equal((await fetch(`${base}/pvemock-api/clock`)).status, 401);
  assert.equal((await fetch(`${base}/api2/json/pvemock-api/clock`)).status, 401);
  const auth = await login();
  assert.equal((await fetch(`${base}/api2/json/pvemock-api/clock`, { headers: auth })).status, 501);
});
