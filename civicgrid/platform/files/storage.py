"""Storage that keeps each tenant's files under ``tenants/<schema>/``.

The prefix is computed on every call from the connection's schema, never
cached on the storage object (django-tenants #242): one storage instance
serves every tenant in a process.
"""

from __future__ import annotations

import errno
import io
import logging
import mimetypes
from datetime import timedelta
from functools import cached_property

import urllib3
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connection
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django_tenants.files.storage import TenantFileSystemStorage as _DjangoTenantsFileSystemStorage
from minio import Minio
from minio.error import MinioException, S3Error

logger = logging.getLogger(__name__)
# A store that does not answer fails a request in seconds, not minutes (minio's default
# waits 5 minutes per connection and retries five times).
S3_CONNECT_TIMEOUT, S3_READ_TIMEOUT, S3_RETRIES = 3, 30, 1


class StorageUnavailable(Exception):
    """The file store could not keep a file: its server is down or its disk is full. The
    message is for the user; the web answers it with 503 (``security.outage``)."""


def save_file(name: str, content: File, storage: Storage | None = None) -> str:
    """``storage.save`` (the default storage), with a store that is down or full raised as
    ``StorageUnavailable`` instead of whatever its client throws."""
    storage = storage or default_storage
    fresh = False
    try:
        # Django's file system storage leaves what it wrote of a file when the disk fills up.
        fresh = isinstance(storage, FileSystemStorage) and not storage.exists(name)
        return storage.save(name, content)
    except OSError as exc:
        logger.warning("storage: could not save %s: %s", name, exc)
        if fresh:
            _remove_partial(storage, name)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageUnavailable(_("The file store is full, so the file was not kept and nothing was "
                                       "saved. Please tell the operators; try again later.")) from exc
        raise StorageUnavailable(_("The file store cannot be reached, so the file was not kept and nothing "
                                   "was saved. Please try again in a minute.")) from exc
    except (MinioException, urllib3.exceptions.HTTPError) as exc:
        logger.warning("storage: could not save %s: %s", name, exc)
        raise StorageUnavailable(_("The file store cannot be reached, so the file was not kept and nothing "
                                   "was saved. Please try again in a minute.")) from exc


def tenant_key(name: str) -> str:
    """The object key for ``name`` in the current schema."""
    schema = connection.schema_name
    if not schema:
        raise RuntimeError("no schema is set; refusing to touch object storage")
    return f"tenants/{schema}/{name.lstrip('/')}"


def _remove_partial(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.warning("storage: could not remove the partial file %s", name, exc_info=True)


class TenantFileSystemStorage(_DjangoTenantsFileSystemStorage):
    """Embedded default: ``MEDIA_ROOT/tenants/<schema>/``."""


@deconstructible
class TenantS3Storage(Storage):
    """Files in an S3 API server (MinIO in production) through the ``minio`` client."""

    def __init__(self, endpoint=None, access_key=None, secret_key=None, bucket=None, secure=None):
        self.endpoint = endpoint or settings.S3_ENDPOINT
        self.access_key = access_key or settings.S3_ACCESS_KEY
        self.secret_key = secret_key or settings.S3_SECRET_KEY
        self.bucket = bucket or settings.S3_BUCKET
        self.secure = settings.S3_SECURE if secure is None else secure

    @cached_property
    def client(self) -> Minio:
        endpoint = self.endpoint.split("://", 1)[-1].rstrip("/")
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=S3_CONNECT_TIMEOUT, read=S3_READ_TIMEOUT), maxsize=10,
            retries=urllib3.Retry(total=S3_RETRIES, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]))
        client = Minio(endpoint, access_key=self.access_key, secret_key=self.secret_key, secure=self.secure,
                       http_client=http)
        if not client.bucket_exists(self.bucket):
            client.make_bucket(self.bucket)
        return client

    def _save(self, name, content: File):
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        content_type = getattr(content, "content_type", None) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.client.put_object(self.bucket, tenant_key(name), io.BytesIO(data), len(data), content_type=content_type)
        return name

    def _open(self, name, mode="rb"):
        response = self.client.get_object(self.bucket, tenant_key(name))
        try:
            return ContentFile(response.read(), name=name)
        finally:
            response.close()
            response.release_conn()

    def exists(self, name):
        try:
            self.client.stat_object(self.bucket, tenant_key(name))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise
        return True

    def delete(self, name):
        self.client.remove_object(self.bucket, tenant_key(name))

    def size(self, name):
        return self.client.stat_object(self.bucket, tenant_key(name)).size

    def url(self, name):
        return self.client.presigned_get_object(self.bucket, tenant_key(name), expires=timedelta(minutes=10))

    def listdir(self, path):
        prefix = tenant_key(path).rstrip("/") + "/"
        directories, files = [], []
        for obj in self.client.list_objects(self.bucket, prefix=prefix):
            relative = obj.object_name[len(prefix):]
            (directories if obj.is_dir else files).append(relative.rstrip("/"))
        return directories, files
