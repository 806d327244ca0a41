"""Anthropic's Messages API: translated onto the call path's chat call for every platform but
Claude, whose accounts get the request as it is (native.py)."""
