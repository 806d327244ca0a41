"""OpenAI's Responses API (`/v1/responses`) on the call path: translated onto each platform's chat
API, its answers and events made back into Responses, and stored per user."""
