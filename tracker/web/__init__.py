"""The staff web workspace: server-rendered pages over the same record functions the CLI calls.

Modules
    workspace  the Starlette application for one ``App`` (routes, headers, static files)
    server     uvicorn: serve in the foreground (`jiebang web`) or in a process of its own (`jiebang run`)
    auth       who is signed in; what each account may see (``Scope``: a city, what it recommended)
    guard      ``route(path, allow=PROVINCE | CITY)``: every route's permission, checked before its handler
    csrf       the token every form carries, checked on every POST
    notices    an action's notice for the next page (a signed cookie, never the URL)
    previews   per-account preview slots and the bounded Word → PDF conversion queue
    pages      Jinja2 (autoescaped, bidi controls removed) and the filters pages share
    text       bidi controls out of names shown
    routes/    one module per area: login, submissions, documents, confirm, mail, digest, city

Templates live in ``tracker/web/templates/`` beside this code, not in the repository's
``templates/`` (which holds the mail templates the notifier renders): they are part of
this package, shipped as package data, and only this package renders them.
"""
