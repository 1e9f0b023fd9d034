// `ax mcp serve` driven by the official TypeScript MCP SDK client, the client VS Code,
// Gemini CLI and the MCP Inspector are built on. Every tool, its success paths and its
// error paths, over one transport per run (AX_MCP_TRANSPORT=stdio|http).
//
// What the SDK itself enforces, and a real host therefore depends on:
// - `callTool` validates `structuredContent` against the tool's `outputSchema` (also
//   when `isError` is set) and throws `MCP error -32602: Structured content does not
//   match the tool's output schema` when it does not: every call here must resolve.
// - `listTools` compiles every output schema with Ajv, which logs
//   `unknown format "uint32" ignored ...` through console.warn for formats outside
//   JSON Schema: none may be logged.
//
// Environment (set by tests/e2e/mcp_sdk.rs; see README.md):
//   AX_MCP_SDK_DIR    folder holding node_modules/@modelcontextprotocol/sdk
//   AX_MCP_TRANSPORT  stdio | http
//   stdio: AX_BIN (the ax binary), AX_DATA_DIR, AX_SERVER_HOME (HOME for the server)
//   http:  AX_MCP_URL (e.g. http://127.0.0.1:PORT/mcp)
// The data directory must define command providers `broken1` and `broken2` that
// always fail (tests/fixtures/providers/crash.sh), for the "ran and failed" paths.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see tests/mcp-sdk/README.md)`);
  return value;
};

// The SDK lives in a cache folder outside the repository; load it from there.
const sdkRequire = createRequire(join(env('AX_MCP_SDK_DIR'), 'package.json'));
const { Client } = sdkRequire('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = sdkRequire('@modelcontextprotocol/sdk/client/stdio.js');
const { StreamableHTTPClientTransport } = sdkRequire(
  '@modelcontextprotocol/sdk/client/streamableHttp.js',
);
const { AjvJsonSchemaValidator } = sdkRequire('@modelcontextprotocol/sdk/validation/ajv');
const { McpError } = sdkRequire('@modelcontextprotocol/sdk/types.js');
const SDK_VERSION = JSON.parse(
  readFileSync(join(env('AX_MCP_SDK_DIR'), 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8'),
).version;

const TRANSPORT = env('AX_MCP_TRANSPORT');
const TOOLS = [
  'ax_agent_list',
  'ax_agent_get',
  'ax_agent_register',
  'ax_agent_update',
  'ax_agent_remove',
  'ax_agent_recommend',
  'ax_agent_capabilities',
  'ax_discuss',
  'ax_discuss_quick',
  'ax_discussion_get',
  'ax_discussion_list',
];
const MOCKS = ['mock-a', 'mock-b'];
const BROKEN = ['broken1', 'broken2'];

// Every console.warn, e.g. Ajv's `unknown format "uint32" ignored in schema at path ...`.
const warnings = [];
const originalWarn = console.warn;
console.warn = (...args) => {
  warnings.push(args.map(String).join(' '));
};

/** Run `fn`; fail when it made the SDK warn about an unknown format. */
async function noFormatWarnings(what, fn) {
  const start = warnings.length;
  const value = await fn();
  const unknown = warnings.slice(start).filter((w) => w.includes('unknown format'));
  assert.deepEqual(
    unknown.slice(0, 5),
    [],
    `${what}: ${unknown.length} "unknown format" warning(s) from the SDK's Ajv (first 5 shown)`,
  );
  return value;
}

let client;

async function connect() {
  const c = new Client({ name: 'ax-mcp-sdk-conformance', version: SDK_VERSION });
  let transport;
  if (TRANSPORT === 'stdio') {
    transport = new StdioClientTransport({
      command: env('AX_BIN'),
      args: ['--data-dir', env('AX_DATA_DIR'), 'mcp', 'serve'],
      env: { HOME: env('AX_SERVER_HOME'), NO_COLOR: '1' },
      stderr: 'inherit',
    });
  } else if (TRANSPORT === 'http') {
    transport = new StreamableHTTPClientTransport(new URL(env('AX_MCP_URL')));
  } else {
    throw new Error(`AX_MCP_TRANSPORT must be stdio or http, not ${TRANSPORT}`);
  }
  await c.connect(transport);
  return c;
}

/** The one text block as JSON, or undefined. */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function texts(result) {
  return (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text);
}

/** `tools/call` through the SDK: resolves (never throws) with the result. */
async function call(name, args, options) {
  return noFormatWarnings(`tools/call ${name}`, () =>
    client.callTool({ name, arguments: args }, undefined, options),
  );
}

/** A successful call: its structuredContent (the SDK has validated it), also as JSON text. */
async function ok(name, args, options) {
  const result = await call(name, args, options);
  assert.notEqual(
    result.isError,
    true,
    `${name} ${JSON.stringify(args)} answered an error: ${texts(result).join('\n')}`,
  );
  assert.ok(result.structuredContent, `${name}: a structuredContent`);
  const [first] = texts(result);
  assert.deepEqual(parseJson(first), result.structuredContent, `${name}: text block = structuredContent`);
  return result.structuredContent;
}

/**
 * Every JSON document in the text blocks: a whole block, or a block's tail from a
 * line starting with `{` (e.g. `AGENT_NOT_FOUND: ...` then the JSON on the next line).
 */
function textDocs(result) {
  const docs = [];
  for (const text of texts(result)) {
    const starts = [...text.matchAll(/(?:^|\n)\{/g)].map((m) => m.index + m[0].length - 1);
    for (const start of starts) {
      const doc = parseJson(text.slice(start));
      if (doc !== undefined) {
        docs.push(doc);
        break;
      }
    }
  }
  return docs;
}

/**
 * The `{code, message, details?}` of an error result, wherever the result carries the
 * envelope `{error: {...}}`: in `structuredContent` and/or in a text block. Where both
 * carry it they agree.
 */
function envelopeOf(result) {
  const found = [result.structuredContent, ...textDocs(result)]
    .map((doc) => doc?.error)
    .filter((error) => typeof error === 'object' && error !== null);
  assert.ok(found.length > 0, `no {error: {code, message}} in ${JSON.stringify(result)}`);
  for (const other of found.slice(1)) {
    assert.equal(other.code, found[0].code, 'structuredContent and text name the same code');
  }
  return found[0];
}

/** The whole result of a discussion that ran and failed (structured, else from the text). */
function failedRunOf(result) {
  const body = [result.structuredContent, ...textDocs(result)].find((d) => d && 'success' in d);
  assert.ok(body, `the discussion result is returned: ${JSON.stringify(result)}`);
  return body;
}

/**
 * A call that must fail as a tool error: the SDK returns it (no throw), `isError` is
 * set, the envelope carries `code` (checked by `expected`, a code or a predicate) and
 * a message, and a text block names the code (for hosts that show only text).
 */
async function fails(name, args, expected) {
  const result = await call(name, args);
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)}: isError, got ${JSON.stringify(result)}`);
  const error = envelopeOf(result);
  if (typeof expected === 'function') {
    assert.ok(expected(error.code), `${name}: unexpected code ${error.code}: ${error.message}`);
  } else {
    assert.equal(error.code, expected, `${name}: ${error.message}`);
  }
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, 'a message');
  assert.ok(
    texts(result).some((t) => t.includes(error.code)),
    `${name}: a text block names ${error.code}`,
  );
  return { error, result };
}

/** The issue paths of an INVALID_INPUT error. */
const paths = (error) => (error.details?.issues ?? []).map((i) => i.path);
const isDiscussionCode = (code) => typeof code === 'string' && code.startsWith('DISCUSSION_');

describe(`@modelcontextprotocol/sdk ${SDK_VERSION} client over ${TRANSPORT}`, { timeout: 120_000 }, () => {
  before(async () => {
    client = await connect();
    // The SDK validates results only against the schemas of a listing it has seen.
    await client.listTools();
  });
  after(async () => {
    await client?.close();
    console.warn = originalWarn;
  });

  it('tools/list: every tool with both schemas, and no unknown-format warnings', async () => {
    const { tools } = await noFormatWarnings('tools/list', () => client.listTools());
    assert.deepEqual(
      tools.map((t) => t.name),
      TOOLS,
    );
    for (const tool of tools) {
      assert.equal(tool.inputSchema?.type, 'object', `${tool.name} inputSchema`);
      assert.equal(tool.outputSchema?.type, 'object', `${tool.name} outputSchema`);
    }
  });

  it('input schemas compile under the SDK\'s Ajv without unknown-format warnings', async () => {
    const { tools } = await client.listTools();
    const ajv = new AjvJsonSchemaValidator();
    for (const tool of tools) {
      await noFormatWarnings(`${tool.name} inputSchema`, () => ajv.getValidator(tool.inputSchema));
    }
  });

  it('an unknown tool is a protocol error (-32602), not a result', async () => {
    await assert.rejects(
      client.callTool({ name: 'ax_no_such_tool', arguments: {} }),
      (e) => e instanceof McpError && e.code === -32602,
    );
  });

  describe('ax_agent_register', () => {
    const profile = {
      agentId: 'sdk-agent',
      description: 'Reviews TypeScript clients of MCP servers',
      displayName: 'SDK agent',
      team: 'sdk',
      tags: ['typescript'],
      capabilities: ['code-review', 'mcp'],
    };
    it('registers', async () => {
      const r = await ok('ax_agent_register', profile);
      assert.equal(r.registered, true);
      assert.equal(r.agentId, 'sdk-agent');
    });
    it('a duplicate: AGENT_ALREADY_EXISTS', async () => {
      const { error } = await fails('ax_agent_register', profile, 'AGENT_ALREADY_EXISTS');
      assert.equal(error.message, 'Agent with ID "sdk-agent" already exists');
      assert.equal(error.details?.agentId, 'sdk-agent');
    });
    it('broken rules and an undeclared field: INVALID_INPUT, each by path', async () => {
      const { error } = await fails(
        'ax_agent_register',
        { agentId: '9bad', description: '', temperature: 7, colour: 'red' },
        'INVALID_INPUT',
      );
      for (const p of ['agentId', 'description', 'temperature', 'colour']) {
        assert.ok(paths(error).includes(p), `${p} in ${paths(error)}`);
      }
    });
  });

  describe('ax_agent_get', () => {
    it('gets a built-in and a registered agent', async () => {
      assert.equal((await ok('ax_agent_get', { agentId: 'reviewer' })).agentId, 'reviewer');
      const got = await ok('ax_agent_get', { agentId: 'sdk-agent' });
      assert.equal(got.displayName, 'SDK agent');
      assert.equal(got.revision, 1);
    });
    it('a missing id: AGENT_NOT_FOUND', async () => {
      const { error } = await fails('ax_agent_get', { agentId: 'nobody' }, 'AGENT_NOT_FOUND');
      assert.equal(error.details?.agentId, 'nobody');
    });
    it('an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails('ax_agent_get', { agentId: 'reviewer', verbose: true }, 'INVALID_INPUT');
      assert.deepEqual(paths(error), ['verbose']);
    });
    it('no agentId: INVALID_INPUT', async () => {
      await fails('ax_agent_get', {}, 'INVALID_INPUT');
    });
  });

  describe('ax_agent_list', () => {
    it('lists, filters and pages', async () => {
      const first = await ok('ax_agent_list', { limit: 1 });
      assert.equal(first.agents.length, 1);
      assert.ok(first.total >= 2);
      assert.equal(typeof first.nextCursor, 'string');
      const second = await ok('ax_agent_list', { limit: 1, cursor: first.nextCursor });
      assert.notEqual(second.agents[0].agentId, first.agents[0].agentId);
      const sdk = await ok('ax_agent_list', { team: 'sdk', tags: ['typescript'], enabled: true });
      assert.deepEqual(
        sdk.agents.map((a) => a.agentId),
        ['sdk-agent'],
      );
    });
    it('a limit out of range and an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails('ax_agent_list', { limit: 0, sort: 'name' }, 'INVALID_INPUT');
      assert.deepEqual(paths(error), ['limit', 'sort']);
    });
  });

  describe('ax_agent_update', () => {
    it('updates with ifVersion', async () => {
      const r = await ok('ax_agent_update', {
        agentId: 'sdk-agent',
        patch: { team: 'core', tags: null },
        ifVersion: 1,
      });
      assert.equal(r.team, 'core');
      assert.equal(r.revision, 2);
      assert.equal(r.tags, undefined);
    });
    it('a stale ifVersion: CONFLICT', async () => {
      const { error } = await fails(
        'ax_agent_update',
        { agentId: 'sdk-agent', patch: { team: 'x' }, ifVersion: 1 },
        'CONFLICT',
      );
      assert.equal(error.details?.expectedRevision, 1);
      assert.equal(error.details?.actualRevision, 2);
    });
    it('a missing agent: AGENT_NOT_FOUND', async () => {
      await fails('ax_agent_update', { agentId: 'nobody', patch: { team: 'x' } }, 'AGENT_NOT_FOUND');
    });
    it('a bad patch: INVALID_INPUT under patch', async () => {
      const { error } = await fails(
        'ax_agent_update',
        { agentId: 'sdk-agent', patch: { temperature: 'hot' } },
        'INVALID_INPUT',
      );
      assert.deepEqual(paths(error), ['patch.temperature']);
    });
    it('an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails(
        'ax_agent_update',
        { agentId: 'sdk-agent', patch: {}, force: true },
        'INVALID_INPUT',
      );
      assert.ok(paths(error).includes('force'), `${paths(error)}`);
    });
  });

  describe('ax_agent_recommend', () => {
    it('recommends', async () => {
      const r = await ok('ax_agent_recommend', {
        task: 'review the typescript code of an mcp client',
        team: 'core',
      });
      assert.equal(r.recommended, 'sdk-agent');
      assert.ok(r.confidence > 0 && r.confidence <= 1);
      assert.ok(Array.isArray(r.alternatives));
    });
    it('an empty task and an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails('ax_agent_recommend', { task: '', urgent: true }, 'INVALID_INPUT');
      assert.ok(paths(error).includes('task') && paths(error).includes('urgent'), `${paths(error)}`);
    });
  });

  describe('ax_agent_capabilities', () => {
    it('indexes capabilities', async () => {
      const r = await ok('ax_agent_capabilities', {});
      assert.ok(r.agentsByCapability.mcp.includes('sdk-agent'));
      assert.deepEqual(r.capabilitiesByAgent['sdk-agent'], ['code-review', 'mcp']);
      await ok('ax_agent_capabilities', { category: 'reviewer', includeDisabled: true });
    });
    it('an unknown category: INVALID_INPUT', async () => {
      const { error } = await fails('ax_agent_capabilities', { category: 'wizard' }, 'INVALID_INPUT');
      assert.deepEqual(paths(error), ['category']);
    });
  });

  describe('ax_agent_remove', () => {
    it('removes, and a second remove is removed: false', async () => {
      assert.deepEqual(await ok('ax_agent_remove', { agentId: 'sdk-agent' }), {
        removed: true,
        agentId: 'sdk-agent',
      });
      assert.deepEqual(await ok('ax_agent_remove', { agentId: 'sdk-agent' }), {
        removed: false,
        agentId: 'sdk-agent',
      });
    });
    it('an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails('ax_agent_remove', { agentId: 'x', force: true }, 'INVALID_INPUT');
      assert.deepEqual(paths(error), ['force']);
    });
  });

  let discussionId;
  let discussed;
  let quickId;

  describe('ax_discuss', () => {
    it('runs a discussion of the mock providers, with progress', async () => {
      const progress = [];
      discussed = await ok(
        'ax_discuss',
        { topic: 'Should a CLI keep its registry in SQLite?', providers: MOCKS, rounds: 1 },
        { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true },
      );
      assert.equal(discussed.success, true);
      assert.equal(discussed.metadata.simulated, true);
      assert.deepEqual([...discussed.participatingProviders].sort(), MOCKS);
      discussionId = discussed.discussionId;
      assert.equal(progress[0]?.message, `discussion ${discussionId} started`);
    });
    it('an undeclared field: INVALID_INPUT, with every other problem', async () => {
      const { error } = await fails(
        'ax_discuss',
        {
          topic: 'x',
          providers: MOCKS,
          rounds: 99,
          consensus: { method: 'synthesis', quorum: 2 },
          verbose: true,
        },
        'INVALID_INPUT',
      );
      for (const p of ['verbose', 'consensus.quorum', 'rounds']) {
        assert.ok(paths(error).includes(p), `${p} in ${paths(error)}`);
      }
    });
    it('a config breaking a rule is refused before it runs: DISCUSSION_INVALID_CONFIG', async () => {
      await fails('ax_discuss', { topic: 'x', providers: MOCKS, rounds: 0 }, 'DISCUSSION_INVALID_CONFIG');
    });
    it('an unknown pattern: DISCUSSION_INVALID_PATTERN', async () => {
      await fails('ax_discuss', { topic: 'x', providers: MOCKS, pattern: 'shouting' }, 'DISCUSSION_INVALID_PATTERN');
    });
    it('an unknown provider is refused before it runs: DISCUSSION_PROVIDER_NOT_FOUND', async () => {
      await fails(
        'ax_discuss',
        { topic: 'x', providers: ['mock-a', 'no-such-provider'], rounds: 1 },
        'DISCUSSION_PROVIDER_NOT_FOUND',
      );
    });
    it('a discussion that ran and failed: isError with its whole result', async () => {
      const { error, result } = await fails(
        'ax_discuss',
        { topic: 'Does anyone work?', providers: BROKEN, rounds: 1 },
        isDiscussionCode,
      );
      assert.notEqual(error.code, 'DISCUSSION_INVALID_CONFIG');
      const body = failedRunOf(result);
      assert.equal(body.success, false);
      assert.equal(body.failedProviders.length, 2);
      assert.ok(Array.isArray(body.rounds));
    });
  });

  describe('ax_discuss_quick', () => {
    it('runs a quick discussion of the mock providers', async () => {
      const r = await ok('ax_discuss_quick', { topic: 'Tabs or spaces?', providers: MOCKS });
      assert.equal(r.success, true);
      assert.equal(r.simulated, true);
      assert.ok(r.synthesis.length > 0);
      quickId = r.discussionId;
    });
    it('an empty topic and an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails('ax_discuss_quick', { topic: '', rounds: 1 }, 'INVALID_INPUT');
      assert.ok(paths(error).includes('topic') && paths(error).includes('rounds'), `${paths(error)}`);
    });
    it('an unknown provider is refused before it runs: DISCUSSION_PROVIDER_NOT_FOUND', async () => {
      await fails(
        'ax_discuss_quick',
        { topic: 'x', providers: ['mock-a', 'no-such-provider'] },
        'DISCUSSION_PROVIDER_NOT_FOUND',
      );
    });
    it('a quick discussion that ran and failed: isError with its result', async () => {
      const { result } = await fails('ax_discuss_quick', { topic: 'Anyone?', providers: BROKEN }, isDiscussionCode);
      assert.equal(failedRunOf(result).success, false);
    });
  });

  describe('ax_discussion_get', () => {
    it('gets the saved discussion, as discuss returned it', async () => {
      assert.ok(discussionId, 'ax_discuss ran first');
      assert.deepEqual(await ok('ax_discussion_get', { discussionId }), discussed);
    });
    it('an unknown id: DISCUSSION_NOT_FOUND', async () => {
      const { error } = await fails('ax_discussion_get', { discussionId: '0190-nope' }, 'DISCUSSION_NOT_FOUND');
      assert.equal(error.details?.discussionId, '0190-nope');
    });
    it('an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails('ax_discussion_get', { discussionId: 'x', full: true }, 'INVALID_INPUT');
      assert.deepEqual(paths(error), ['full']);
    });
  });

  describe('ax_discussion_list', () => {
    it('lists newest first and pages', async () => {
      const page = await ok('ax_discussion_list', { limit: 1 });
      assert.equal(page.discussions.length, 1);
      assert.equal(typeof page.nextCursor, 'string');
      const next = await ok('ax_discussion_list', { limit: 1, cursor: page.nextCursor });
      assert.notEqual(next.discussions[0].discussionId, page.discussions[0].discussionId);
      const ids = (await ok('ax_discussion_list', {})).discussions.map((d) => d.discussionId);
      assert.ok(ids.includes(discussionId) && ids.includes(quickId), `${ids}`);
      assert.ok(ids.indexOf(quickId) < ids.indexOf(discussionId), 'newest first');
    });
    it('a limit out of range and an undeclared field: INVALID_INPUT', async () => {
      const { error } = await fails('ax_discussion_list', { limit: 0, status: 'failed' }, 'INVALID_INPUT');
      assert.deepEqual(paths(error), ['limit', 'status']);
    });
  });
});
