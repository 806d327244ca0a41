"""The quota's books: each account's daily ledger and holds (`ledger`), blocks of quota a process
reserves at once (`allowances`), the platform's quota day (`quota_clock`), and the books a call's
end writes (`books`)."""
