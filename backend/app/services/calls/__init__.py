"""The call path: routing, account selection, error classification, account state, usage,
and the answers' wire shapes; `call_path.CallPath` puts them together."""
