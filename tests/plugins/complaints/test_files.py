"""Files kept with a complaint (CMP-5): the complainant's letter, photos, the
handling record. Whoever may open the complaint reads them and may add one
until it is archived; the quality supervisor may remove any, others their own."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from fuwu.attachments import Attachment
from fuwu_plugins.complaints.models import Complaint

from .conftest import receive

PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 40
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def attach(b, cid: int, name: str, data: bytes, **headers):
    return b.submit(f"/records/complaints_complaint/{cid}/files", {"description": "现场照片"},
                    files={"file": (name, data, "application/octet-stream")}, page=f"/complaints/{cid}",
                    headers=headers)


def file_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/files/(\d+)"', page)]


def stored(site) -> int:
    return site.db.run(lambda s: s.scalar(select(func.count()).select_from(Attachment)))


def test_a_complaints_files_are_read_by_who_may_open_it_and_frozen_once_archived(cweb):
    site, _app, browser = cweb
    cid = receive(site)
    quality, engineer, outsider = browser("quality"), browser("engineer"), browser("outsider")
    assert f'action="/records/complaints_complaint/{cid}/files"' in engineer.get(f"/complaints/{cid}").text

    sent = attach(engineer, cid, "机房照片.png", PNG)
    assert sent.status_code == 303 and sent.headers["location"] == f"/complaints/{cid}#files"
    assert attach(quality, cid, "投诉信.pdf", PDF).status_code == 303
    page = quality.get(f"/complaints/{cid}").text
    letter, photo = file_ids(page)  # newest first
    assert "机房照片.png" in page and "投诉信.pdf" in page
    assert engineer.get(f"/files/{letter}").content == PDF

    # another office's engineer learns nothing of them
    assert outsider.get(f"/complaints/{cid}").status_code == 404
    assert outsider.get(f"/files/{photo}").status_code == 404
    assert attach(outsider, cid, "x.png", PNG).status_code == 404

    # the engineer removes only their own; the quality supervisor any
    assert engineer.submit(f"/files/{letter}/delete", page=f"/complaints/{cid}").status_code == 403
    assert f'action="/files/{letter}/delete"' not in engineer.get(f"/complaints/{cid}").text
    assert quality.submit(f"/files/{photo}/delete", page=f"/complaints/{cid}").status_code == 303
    assert stored(site) == 1

    # a refused file: the reason on the complaint's own page, in the reader's language
    refused = attach(engineer, cid, "照片.png", PDF, **{"Accept-Language": "zh-CN"})
    assert refused.status_code == 422 and 'id="history"' in refused.text
    assert "文件内容与其扩展名（.png）不符" in refused.text and stored(site) == 1

    # archived: the file stays, nobody adds or removes one
    site.db.run(lambda s: setattr(s.get(Complaint, cid), "state", "archived"))
    page = quality.get(f"/complaints/{cid}").text
    assert "投诉信.pdf" in page and "/records/complaints_complaint/" not in page
    assert attach(quality, cid, "补充.png", PNG).status_code == 403
    assert quality.submit(f"/files/{letter}/delete", page=f"/complaints/{cid}").status_code == 403
    assert stored(site) == 1
