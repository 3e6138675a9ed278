"""Outgoing mail: a durable outbox, templates, loop guards and delivery transports.

One-way imports: ``tracker`` uses ``notifier``; ``notifier`` never imports ``tracker``
or ``intake`` and never parses incoming mail.

Modules
-------
``models``     the ``outbox`` table (OutboxMail) and its state/kind enums
``outbox``     writing rows in the caller's transaction (enqueue, mark_bounced, resend)
``loops``      pure guards against mail loops (who may be written to)
``render``     templates → subject, text and HTML (one place, StrictUndefined)
``templates``  the context each template expects (TypedDicts)
``wording``    Chinese titles and fixes for every deficiency code
``compose``    an outbox row → an RFC 5322 EmailMessage
``transports/``  the Transport port and its error tree (``base``), the ``smtp`` and
               ``maildir`` adapters, and ``open_transport(url)``
``sender``     the delivery job: claim by id, send, record (deliver_pending)
"""
