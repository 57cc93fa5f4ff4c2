"""Storage that keeps each tenant's files under ``tenants/<schema>/``.

The prefix is computed on every call from the connection's schema, never
cached on the storage object (django-tenants #242): one storage instance
serves every tenant in a process.
"""

from __future__ import annotations

import io
import mimetypes
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.db import connection
from django.utils.deconstruct import deconstructible
from django_tenants.files.storage import TenantFileSystemStorage as _DjangoTenantsFileSystemStorage
from minio import Minio
from minio.error import S3Error


def tenant_key(name: str) -> str:
    """The object key for ``name`` in the current schema."""
    schema = connection.schema_name
    if not schema:
        raise RuntimeError("no schema is set; refusing to touch object storage")
    return f"tenants/{schema}/{name.lstrip('/')}"


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
        client = Minio(endpoint, access_key=self.access_key, secret_key=self.secret_key, secure=self.secure)
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
