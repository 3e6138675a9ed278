"""Mail the records cause, written to the notifier's outbox in the same transaction.

Modules
    replies    acknowledgements, deficiency notices, redirects, status replies
    reminders  deadline reminders, at most one per recipient per day
    digest     the daily staff digest, written to the outbox once a day
    corrections  the notice staff may send after correcting a field
"""
