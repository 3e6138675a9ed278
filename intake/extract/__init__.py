"""Reading applications out of opened documents: label-driven, never one template's coordinates.

``labels`` (synonyms → fields) and ``pairs`` (text + tables → label/value pairs, sections,
column tables) are the shared machinery; ``fields`` reads one 申报书, ``table`` one
推荐汇总表, ``merge`` joins the Word and PDF copies of a form; ``checkboxes``,
``directions``, ``nature`` and ``uscc`` interpret single values.
"""

from intake.extract.fields import FormReading, read_form
from intake.extract.merge import merge_readings
from intake.extract.table import RecommendationTable, read_recommendations

__all__ = [
    "FormReading",
    "RecommendationTable",
    "merge_readings",
    "read_form",
    "read_recommendations",
]
