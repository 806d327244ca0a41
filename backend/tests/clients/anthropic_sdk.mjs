// Anthropic's Node SDK against the service: a message, a stream with a tool, a token count and
// a refused key. Reads BASE_URL, API_KEY and MODEL; prints what it saw as one line of JSON.
import Anthropic from "@anthropic-ai/sdk";

const { BASE_URL, API_KEY, MODEL } = process.env;
const client = new Anthropic({ baseURL: BASE_URL, apiKey: API_KEY, maxRetries: 0 });
const weather = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const ask = (text) => [{ role: "user", content: `${text} ${Math.random().toString(16).slice(2, 10)}` }];

const message = await client.messages.create({ model: MODEL, max_tokens: 50, messages: ask("Say hello") });

const stream = client.messages.stream({
  model: MODEL,
  max_tokens: 100,
  tools: [weather],
  messages: ask("Weather in Paris"),
});
const kinds = [];
stream.on("streamEvent", (event) => kinds.push(event.type));
const streamed = await stream.finalMessage();

const counted = await client.messages.countTokens({ model: MODEL, messages: ask("Count these words") });

let refused = null;
try {
  const stranger = new Anthropic({ baseURL: BASE_URL, apiKey: "op-invalid", maxRetries: 0 });
  await stranger.messages.create({ model: MODEL, max_tokens: 10, messages: ask("Hi") });
} catch (error) {
  refused = { authentication: error instanceof Anthropic.AuthenticationError, status: error.status, type: error.error?.error?.type };
}

console.log(JSON.stringify({
  text: message.content[0].text,
  usage: message.usage,
  kinds,
  tool: streamed.content.find((block) => block.type === "tool_use"),
  stopReason: streamed.stop_reason,
  streamedUsage: streamed.usage,
  counted: counted.input_tokens,
  refused,
}));
