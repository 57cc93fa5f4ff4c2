"""The search backend and object storage down.

Search: the web server and the worker use Elasticsearch at a port where nothing listens
(this machine has no Elasticsearch, and the PostgreSQL backend cannot be down apart from
the database). A report is accepted, its case waits in the index queue through every
drain, and once the worker has a backend that answers (restarted on the PostgreSQL
backend: the only one this machine can bring back) the waiting case is indexed, once.

Object storage: moto's S3 server, a process of the test's own, stopped and started
again on the same port. What the code does decides the answer: photos are checked and
stored inside the report's action, with the report, so a report with a photo while the
store is down gets 503 and a sentence in the user's language and no case; a report
without a photo is accepted. moto keeps nothing across a restart, so the test makes the
bucket again, as MinIO's disk would have kept it.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context
from minio import Minio

from civicgrid.platform.cases.models import Attachment, Case
from civicgrid.platform.notifications.tasks import relay_all_outboxes
from civicgrid.search.tasks import index_all_queued
from tests.conftest import free_port

from .conftest import a_photo, discard_cases, eventually, report_over_http, unique_title
from .counting import side_effects, worker_idle
from .processes import moto_s3_server

pytestmark = [pytest.mark.faults, pytest.mark.slow]
SEARCH_PREFIX = "故障演练搜索"
STORAGE_PREFIX = "故障演练存储"
BUCKET = "civicgrid-faults"


def test_with_search_down_a_report_is_accepted_and_indexed_once_the_backend_answers(stack, sample_plugin_on):
    world = sample_plugin_on
    closed = f"http://127.0.0.1:{free_port()}"
    web = stack.web(ELASTICSEARCH_URL=closed)
    worker = stack.worker(ELASTICSEARCH_URL=closed)
    try:
        response = report_over_http(web.port, unique_title(SEARCH_PREFIX))
        assert response.status_code == 201, response.text
        for _round in range(2):
            stack.beat(relay_all_outboxes, index_all_queued)
            worker_idle(stack)
        with tenant_context(world.shangcheng):
            waiting = side_effects(SEARCH_PREFIX)
            assert waiting.events_delivered == 1 and waiting.index_queue == 1 and waiting.indexed == set()
        assert "the backend is unavailable; cases wait in the queue" in worker.log()

        worker.stop()
        stack.worker(name="worker-postgres-search")
        stack.beat(index_all_queued)
        with tenant_context(world.shangcheng):
            done = eventually(lambda: (found := side_effects(SEARCH_PREFIX)).indexed and found, stack=stack)
            assert done.index_queue == 0 and done.indexed == {pk for _n, pk in done.cases}
            assert done.reports_heard == {number: 1 for number, _pk in done.cases}
    finally:
        discard_cases(world, SEARCH_PREFIX)


def test_with_object_storage_down_a_photo_report_is_refused_clearly_and_leaves_no_case(stack, committed):
    world = committed
    moto = moto_s3_server(log_dir=stack.log_dir).start()
    stack.processes.append(moto)
    endpoint = f"127.0.0.1:{moto.port}"
    s3 = {"S3_ENDPOINT": f"http://{endpoint}", "S3_ACCESS_KEY": "test", "S3_SECRET_KEY": "testtest",
          "S3_BUCKET": BUCKET}
    client = Minio(endpoint, access_key="test", secret_key="testtest", secure=False)
    web = stack.web(**s3)
    photo = a_photo()
    try:
        client.make_bucket(BUCKET)
        assert report_over_http(web.port, unique_title(STORAGE_PREFIX)).status_code == 201

        moto.stop()
        refused_title = unique_title(STORAGE_PREFIX)
        refused = report_over_http(web.port, refused_title, photo=photo, language="en")
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"]
        assert refused.json() == {"detail": "The file store cannot be reached, so the file was not kept and "
                                                "nothing was saved. Please try again in a minute."}
        in_chinese = report_over_http(web.port, unique_title(STORAGE_PREFIX), photo=photo, language="zh-hans")
        assert in_chinese.status_code == 503 and in_chinese.json()["detail"]
        without_photo = report_over_http(web.port, unique_title(STORAGE_PREFIX))
        assert without_photo.status_code == 201, without_photo.text

        moto.start()
        client.make_bucket(BUCKET)  # moto kept nothing; MinIO's disk would have
        again = report_over_http(web.port, refused_title, photo=photo)
        assert again.status_code == 201, again.text

        with tenant_context(world.shangcheng):
            assert Case.objects.filter(title=refused_title).count() == 1  # the retried one only
            cases = Case.objects.filter(title__startswith=STORAGE_PREFIX)
            assert cases.count() == 3  # before, without a photo, the retry
            attachments = list(Attachment.objects.filter(case__in=cases))
            assert len(attachments) == 1
            for attachment in attachments:  # never a case pointing at a missing file
                assert client.stat_object(BUCKET, f"tenants/shangcheng/{attachment.file}").size == attachment.size
        # The store holds the retry's photo and nothing else (its thumbnail is the worker's job).
        assert {o.object_name for o in client.list_objects(BUCKET, recursive=True)} == {
            f"tenants/shangcheng/{a.file}" for a in attachments}
    finally:
        discard_cases(world, STORAGE_PREFIX)
