"""The request log: every model call recorded — what was asked, what served it, how it ended, how
long it took, the tokens — never the prompt or the answer. `trace` follows a call as it goes;
`store` writes the rows (with the books, quota/books.py), reads them and prunes them."""
