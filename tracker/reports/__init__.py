"""What staff read: labels, typed views, the digest, its chart and workbooks, the
推荐汇总表, and the `inspect` view.

Modules
    labels          Chinese labels (directions from the catalogue in force)
    views           the frozen dataclasses every report is made of
    digest          gather the digest's numbers; build and queue the digest mail
    chart           the digest's PNG chart (CJK font checked)
    workbook        .xlsx / .csv for staff
    recommendation  a city's 推荐汇总表 (.docx, .xlsx) and its applications' files
    inspect_view    the Rich view of one understood message
    exports         the files staff download (CLI export and the web workspace)
    documents       a submission's files from the stored mail; inline previews (Word → PDF once)
"""
