// Checks an OpenAI-compatible server (`alignsharp serve`) with the official npm `openai` client:
//   node check.mjs BASE_URL MODEL        e.g. node check.mjs http://127.0.0.1:8000/v1 my-model
// OPENAI_API_KEY, when set, is sent (and a wrong key must then be refused with 401).
// Prints one line per check and ends with "N passed, M failed"; exits 1 on any mismatch.
import OpenAI from 'openai';

const [baseURL, model] = process.argv.slice(2);
if (!baseURL || !model) {
  console.error('usage: node check.mjs BASE_URL MODEL   (e.g. http://127.0.0.1:8000/v1 tiny)');
  process.exit(2);
}
const apiKey = process.env.OPENAI_API_KEY;
const client = new OpenAI({ baseURL, apiKey: apiKey ?? 'no-key', maxRetries: 0, timeout: 120_000 });
const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Name a colour.' }];

let passed = 0, failed = 0;
function expect(ok, what) { if (!ok) throw new Error(what); }
async function check(name, body) {
  try { await body(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}: ${e?.message ?? e}`); }
}
async function expectApiError(promise, status, param) {
  try { await promise; } catch (e) {
    expect(e instanceof OpenAI.APIError, `expected an APIError, got ${e}`);
    expect(e.status === status, `expected status ${status}, got ${e.status}: ${e.message}`);
    if (param !== undefined) expect(e.param === param, `expected param ${param}, got ${e.param}`);
    expect(typeof e.error?.message === 'string' && e.error.message.length > 0, 'the error body has no message');
    return e;
  }
  throw new Error(`expected HTTP ${status}, but the request succeeded`);
}

let whole;
await check('models.list names the model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  expect(ids.includes(model), `models: ${JSON.stringify(ids)}`);
});

await check('non-streaming completion', async () => {
  whole = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
  expect(whole.object === 'chat.completion', `object ${whole.object}`);
  expect(whole.id.startsWith('chatcmpl-'), `id ${whole.id}`);
  expect(whole.model === model, `model ${whole.model}`);
  const c = whole.choices[0];
  expect(c.index === 0 && c.message.role === 'assistant' && typeof c.message.content === 'string', JSON.stringify(c));
  expect(['stop', 'length'].includes(c.finish_reason), `finish_reason ${c.finish_reason}`);
  const u = whole.usage;
  expect(u.prompt_tokens > 0 && u.completion_tokens <= 12 && u.total_tokens === u.prompt_tokens + u.completion_tokens, JSON.stringify(u));
  const again = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
  expect(again.choices[0].message.content === c.message.content, 'greedy decoding gave two different answers');
});

await check('streaming gives the same text, finish reason and usage', async () => {
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = '', role, finish, usage, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    expect(chunk.object === 'chat.completion.chunk', `object ${chunk.object}`);
    for (const c of chunk.choices) {
      role ??= c.delta.role;
      text += c.delta.content ?? '';
      finish ??= c.finish_reason ?? undefined;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  expect(role === 'assistant', `first role ${role}`);
  expect(text === whole.choices[0].message.content, `streamed ${JSON.stringify(text)} vs ${JSON.stringify(whole.choices[0].message.content)}`);
  expect(finish === whole.choices[0].finish_reason, `finish ${finish}`);
  expect(usage && usage.completion_tokens === whole.usage.completion_tokens && usage.prompt_tokens === whole.usage.prompt_tokens, `usage ${JSON.stringify(usage)}`);
});

await check('logprobs: one entry per token, bytes spell the content', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0, logprobs: true });
  const content = r.choices[0].logprobs?.content;
  expect(Array.isArray(content) && content.length > 0 && content.length <= r.usage.completion_tokens, `logprobs ${JSON.stringify(r.choices[0].logprobs)}`);
  for (const t of content) expect(t.logprob <= 0 && Array.isArray(t.bytes) && Array.isArray(t.top_logprobs), JSON.stringify(t));
  const text = Buffer.from(content.flatMap(t => t.bytes)).toString('utf8');
  expect(text === r.choices[0].message.content, `bytes give ${JSON.stringify(text)}`);
});

await check('top_logprobs: alternatives sorted, greedy picks the first', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3 });
  for (const t of r.choices[0].logprobs.content) {
    expect(t.top_logprobs.length === 3, `top_logprobs ${JSON.stringify(t.top_logprobs)}`);
    const values = t.top_logprobs.map(a => a.logprob);
    expect(values.every((v, i) => i === 0 || values[i - 1] >= v), `not sorted: ${values}`);
    expect(t.top_logprobs[0].token === t.token, `greedy token ${t.token} is not the most likely ${t.top_logprobs[0].token}`);
  }
});

await check('n choices with a seed are reproducible', async () => {
  const ask = () => client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 1, seed: 11, n: 2 });
  const [a, b] = [await ask(), await ask()];
  expect(a.choices.length === 2 && a.choices.map(c => c.index).join() === '0,1', `choices ${a.choices.length}`);
  expect(JSON.stringify(a.choices.map(c => c.message.content)) === JSON.stringify(b.choices.map(c => c.message.content)), 'same seed, different answers');
});

await check('errors: 400 naming the parameter, 404 for another model', async () => {
  await expectApiError(client.chat.completions.create({ model, messages, max_tokens: 1_000_000_000 }), 400, 'max_tokens');
  await expectApiError(client.chat.completions.create({ model, messages, temperature: 5 }), 400, 'temperature');
  await expectApiError(client.chat.completions.create({ model, messages: [] }), 400, 'messages');
  await expectApiError(client.chat.completions.create({ model: `${model}-nope`, messages }), 404, 'model');
  // A stream that cannot start fails before any chunk, as an APIError.
  await expectApiError(client.chat.completions.create({ model, messages, stream: true, top_logprobs: 99, logprobs: true }), 400, 'top_logprobs');
});

if (apiKey) {
  await check('a wrong API key is 401', async () => {
    const wrong = new OpenAI({ baseURL, apiKey: `${apiKey}-wrong`, maxRetries: 0 });
    const e = await expectApiError(wrong.chat.completions.create({ model, messages, max_tokens: 2 }), 401);
    expect(e instanceof OpenAI.AuthenticationError, `expected AuthenticationError, got ${e.constructor.name}`);
  });
}

console.log(`openai-node check: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
