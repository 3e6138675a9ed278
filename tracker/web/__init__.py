"""The staff web workspace: server-rendered pages over the same record functions the CLI calls.

Modules
    app        the Starlette application for one ``App`` (routes, headers, static files)
    server     uvicorn: serve in the foreground (`jiebang web`) or in a thread (`jiebang run`)
    auth       who is signed in; the access rules (anonymous, viewer, city, province)
    csrf       the token every form carries, checked on every POST
    pages      Jinja2 (autoescaped) and the filters pages share (the round's time, labels)
    routes/    one module per area: login, submissions, documents, confirm, mail, digest, city

Templates live in ``tracker/web/templates/`` beside this code, not in the repository's
``templates/`` (which holds the mail templates the notifier renders): they are part of
this package, shipped as package data, and only this package renders them.
"""
