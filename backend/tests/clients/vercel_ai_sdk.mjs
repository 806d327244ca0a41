// The Vercel AI SDK's default OpenAI provider (`openai(model)`, which speaks the Responses API)
// against the service: generateText, then streamText with a tool the SDK runs itself and whose
// result it sends back. Reads BASE_URL, API_KEY and MODEL; prints what it saw as one line of JSON.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";

const { BASE_URL, API_KEY, MODEL } = process.env;
const openai = createOpenAI({ baseURL: BASE_URL, apiKey: API_KEY });
const ask = (text) => `${text} ${Math.random().toString(16).slice(2, 10)}`;

const plain = await generateText({ model: openai(MODEL), prompt: ask("Say hello"), maxRetries: 0 });

const asked = [];
const weather = tool({
  description: "The weather in a city",
  inputSchema: jsonSchema({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  }),
  execute: async ({ city }) => {
    asked.push(city);
    return `sunny in ${city}, 24 C`;
  },
});
const streamed = streamText({
  model: openai(MODEL),
  prompt: ask("Weather in Paris"),
  tools: { get_weather: weather },
  stopWhen: stepCountIs(3),
  maxRetries: 0,
});
const parts = [];
for await (const part of streamed.fullStream) parts.push(part.type);

let refused = null;
try {
  const stranger = createOpenAI({ baseURL: BASE_URL, apiKey: "op-invalid" });
  await generateText({ model: stranger(MODEL), prompt: "Hi", maxRetries: 0 });
} catch (error) {
  refused = { status: error.statusCode, name: error.name };
}

console.log(JSON.stringify({
  text: plain.text,
  usage: plain.usage,
  streamedText: await streamed.text,
  steps: (await streamed.steps).length,
  streamedUsage: await streamed.totalUsage,
  parts: [...new Set(parts)],
  asked,
  refused,
}));
