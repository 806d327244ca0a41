"""Google's Gemini API: translated onto the call path's chat call for every platform but Gemini,
whose accounts get the request as it is (native.py)."""
