"""The APIs other than OpenAI's chat completions that clients call (Anthropic's Messages API,
Google's Gemini API, …): each translates its requests into the call path's chat call and its
answers back, or — on a platform that speaks it — hands the request on as it is (calls/native.py).
"""
