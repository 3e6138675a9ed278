"""After intake (SPEC section 6): formal review and credit checks, experts and panels,
conflicts of interest, scores. Ranking and the published list are reports
(``tracker.reports.ranking``, ``tracker.reports.publication``); the mails are outreach
(``tracker.outreach.results``, ``tracker.outreach.experts``).

Every refusal is a :class:`ReviewRefused` whose message is one Chinese sentence a clerk or
an expert can act on; callers show it as it is.
"""


class ReviewRefused(Exception):
    """The review step asked for is not allowed; the message says why, in Chinese."""
