"""Landing zone in an S3 bucket (or any S3-compatible store): the zone for more than one machine.

S3 makes an object visible only once it is whole, so `put` is atomic without a rename. What
S3 does not do by itself is notice bytes corrupted on the way: `put` sends `Content-MD5`
(S3 refuses a body that does not match it) and compares the returned ETag with the MD5 when
the ETag is one (not with SSE-KMS/SSE-C), for S3-compatible stores that skip the check.

Credentials come from boto3's standard chain (environment, shared config, instance or task
role); none are ever passed in code or shown by `describe`.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from connectors.landing.base import (
    QUARANTINE_PREFIX,
    REASON_SUFFIX,
    LandingFile,
    LandingZone,
    QuarantinedFile,
    reason_document,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import PutObjectOutputTypeDef

_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_ETAG_NOT_MD5_ENCRYPTION = frozenset({"aws:kms", "aws:kms:dsse"})


class CorruptUploadError(OSError):
    """The store kept different bytes from the ones sent; the object was removed."""


class S3LandingZone(LandingZone):
    """Files as objects under `s3://<bucket>/<prefix>`; keys are the landing keys."""

    def __init__(
        self, bucket: str, prefix: str, client: S3Client, *, list_page_size: int = 1000
    ) -> None:
        if not bucket:
            raise ValueError("S3 landing zone needs a bucket name")
        if not 1 <= list_page_size <= 1000:
            raise ValueError(f"list_page_size must be between 1 and 1000, got {list_page_size}")
        self.bucket = bucket
        self.prefix = _normalize_prefix(prefix)
        self.client = client
        self.list_page_size = list_page_size

    @classmethod
    def from_url(
        cls, url: str, *, endpoint_url: str | None = None, region: str | None = None
    ) -> S3LandingZone:
        """A zone for `s3://bucket/prefix`, with a client from boto3's credential chain."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"S3 landing URL must look like s3://bucket/prefix, got {url!r}")
        session = boto3.session.Session(region_name=region)
        client = session.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )
        return cls(parts.netloc, parts.path, client)

    def put(self, key: str, data: bytes) -> LandingFile:
        object_key = self._object_key(key)
        digest = hashlib.md5(data, usedforsecurity=False)
        response = self.client.put_object(
            Bucket=self.bucket,
            Key=object_key,
            Body=data,
            ContentMD5=base64.b64encode(digest.digest()).decode(),
        )
        if _etag_is_md5(response) and response["ETag"].strip('"') != digest.hexdigest():
            self.client.delete_object(Bucket=self.bucket, Key=object_key)
            raise CorruptUploadError(
                f"landing file {key!r} was stored with different bytes than sent "
                f"(checksum mismatch); it was removed, write it again"
            )
        return LandingFile(key=key, size=len(data))

    def read(self, key: str) -> bytes:
        object_key = self._object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            raise _not_found_or(exc, key) from None
        return response["Body"].read()

    def list(self, dataset: str | None = None) -> list[LandingFile]:
        under = f"{self.prefix}{dataset.strip('/')}/" if dataset else self.prefix
        files = []
        for object_key, size in self._objects(under):
            key = object_key[len(self.prefix) :]
            if key.startswith(QUARANTINE_PREFIX) or key.endswith("/"):
                continue
            files.append(LandingFile(key=key, size=size))
        return sorted(files, key=lambda f: (f.key.rsplit("/", 1)[-1], f.key))

    def quarantine(self, key: str, reason: str) -> None:
        source = self._object_key(key)
        target = self._object_key(QUARANTINE_PREFIX + key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=source)
        except ClientError as exc:
            raise _not_found_or(exc, key) from None
        # Reason first, then copy, then delete: a crash at any step leaves the file findable
        # (still listed, so the loader quarantines it again), never lost.
        self.client.put_object(
            Bucket=self.bucket,
            Key=target + REASON_SUFFIX,
            Body=reason_document(key, reason),
            ContentType="application/json",
        )
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
        )
        self.client.delete_object(Bucket=self.bucket, Key=source)

    def quarantined(self) -> builtins.list[QuarantinedFile]:
        notes = sorted(
            object_key
            for object_key, _ in self._objects(self.prefix + QUARANTINE_PREFIX)
            if object_key.endswith(REASON_SUFFIX)
        )
        found = []
        for note in notes:
            body = self.client.get_object(Bucket=self.bucket, Key=note)["Body"].read()
            doc = json.loads(body)
            found.append(
                QuarantinedFile(
                    key=doc["key"], reason=doc["reason"], quarantined_at=doc["quarantined_at"]
                )
            )
        return found

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}"
        endpoint = urlsplit(self.client.meta.endpoint_url)
        host = endpoint.hostname or ""
        if host.endswith("amazonaws.com"):
            return where
        port = f":{endpoint.port}" if endpoint.port else ""
        return f"{where} at {endpoint.scheme}://{host}{port}"  # no user:password part

    def _object_key(self, key: str) -> str:
        if any(segment in ("", ".", "..") for segment in key.split("/")):
            raise ValueError(f"landing key {key!r} escapes the landing zone")
        return self.prefix + key

    # `builtins.list`: inside this class `list` names the method above.
    def _objects(self, under: str) -> builtins.list[tuple[str, int]]:
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=under, PaginationConfig={"PageSize": self.list_page_size}
        )
        for page in pages:
            for item in page.get("Contents", []):
                found.append((item["Key"], item["Size"]))
        return found


def _normalize_prefix(prefix: str) -> str:
    cleaned = prefix.strip("/")
    return f"{cleaned}/" if cleaned else ""


def _etag_is_md5(response: PutObjectOutputTypeDef) -> bool:
    """S3's ETag is the body's MD5 for single-part objects unless encrypted with KMS or SSE-C."""
    return (
        "ETag" in response
        and response.get("ServerSideEncryption") not in _ETAG_NOT_MD5_ENCRYPTION
        and "SSECustomerAlgorithm" not in response
    )


def _not_found_or(exc: ClientError, key: str) -> Exception:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if code in _MISSING_OBJECT_CODES:
        return FileNotFoundError(f"landing file {key!r} does not exist")
    return exc
