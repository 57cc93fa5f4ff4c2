"""Building upload files in tests."""

import csv
import io

from openpyxl import Workbook, load_workbook

HEADER = ["姓名", "身份证号", "地址"]


def csv_bytes(rows: list[dict], header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row["name"], row["id_number"], row["address"]])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row["name"], row["id_number"], row["address"]])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_cells(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
