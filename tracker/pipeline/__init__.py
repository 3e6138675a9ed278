"""The path of a message: poll → store → process (understand + apply) → answer.

Modules
    poller      one polling pass over the mailbox folders, batched durable commits
    ingest      store a fetched message exactly once (blob, then one committed row)
    processing  claim stored messages, understand them, quarantine what raises
    apply       one understood message → records, cross rules, replies (one transaction)
"""
