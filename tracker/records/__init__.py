"""The round's records: submissions, versions, deficiencies, city packages, events.

Modules
    submissions  apply one understood submission mail (versions, contacts, deficiencies)
    rules        rules across messages, as registered ``CrossRule``s
    status       a submission's status: staff decisions stand, else open errors decide
    decisions    staff decisions (set a status, then re-run the cross rules)
    city         the city role's ranked recommendations (quota from the catalogue)
    events       the append-only event log
    queries      read-only views for the CLI and reports
    accounts     staff accounts of the web workspace: passwords, sessions, the login rate limit
    overrides    staff corrections of fields as read; the rules they decide re-run
"""
