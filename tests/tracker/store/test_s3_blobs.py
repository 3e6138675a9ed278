"""The S3 blob store against a real S3 server (a private SeaweedFS), and the registry that
chooses an adapter by ``storage.url``."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest
from support.helpers import write_config
from support.servers import free_port
from support.servers.seaweed import SeaweedFS

from tracker.config import ConfigError, load_settings
from tracker.store.blobs import (
    BlobMissing,
    BlobStoreOptions,
    BlobStoreUnavailable,
    LocalBlobStore,
    open_blob_store,
)


def _store(seaweed: SeaweedFS, tmp_path: Path, *, cache_bytes: int = 64 * 1024 * 1024):
    # one bucket, a prefix per test (each new bucket makes the server grow volumes)
    bucket = seaweed.make_bucket("blobs")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    store = open_blob_store(f"s3://{bucket}/{prefix}", BlobStoreOptions(
        path=tmp_path / "store", endpoint=seaweed.endpoint, cache_bytes=cache_bytes, env=seaweed.env()))
    return store, f"{bucket}/{prefix}"


def _keys(seaweed: SeaweedFS, where: str) -> list[str]:
    bucket, prefix = where.split("/")
    listed = seaweed.client().list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_a_blob_put_twice_by_two_hosts_is_one_object_named_by_its_sha256(seaweed, tmp_path):
    store, bucket = _store(seaweed, tmp_path / "a")
    data = b"From: a@example.cn\r\n\r\nhello"
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.put(data) == digest
    # another host (its own process and cache) puts the same bytes: nothing new
    other = open_blob_store(f"s3://{bucket}", BlobStoreOptions(
        path=tmp_path / "b" / "store", endpoint=seaweed.endpoint, env=seaweed.env()))
    assert other.put(data) == digest
    prefix = bucket.split("/")[1]
    assert _keys(seaweed, bucket) == [f"{prefix}/{digest[:2]}/{digest[2:4]}/{digest}"]  # the local layout
    assert other.get(digest) == data and digest in other


def test_a_missing_blob_is_missing_not_a_store_failure(seaweed, tmp_path):
    store, _ = _store(seaweed, tmp_path)
    absent = "0" * 64
    assert absent not in store
    with pytest.raises(BlobMissing):
        store.get(absent)
    with pytest.raises(BlobMissing):
        store.local_path(absent)


def test_a_large_attachment_streams_and_lands_whole_in_the_cache(seaweed, tmp_path):
    store, _ = _store(seaweed, tmp_path)
    data = os.urandom(24 * 1024 * 1024)
    digest = store.put(data)
    seen = hashlib.sha256()
    with store.open(digest) as stream:
        while chunk := stream.read(1024 * 1024):
            assert len(chunk) <= 1024 * 1024
            seen.update(chunk)
    assert seen.hexdigest() == digest
    path = store.local_path(digest)
    assert path.is_relative_to(tmp_path / "store" / "cache")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_the_local_cache_stays_within_its_bound_and_evicted_blobs_are_fetched_again(seaweed, tmp_path):
    bound = 1024 * 1024
    store, _ = _store(seaweed, tmp_path, cache_bytes=bound)
    blobs = [os.urandom(200 * 1024) for _ in range(15)]  # 3 MB through a 1 MB cache
    digests = [store.put(b) for b in blobs]
    for digest in digests:
        store.local_path(digest)
    cache = tmp_path / "store" / "cache"
    on_disk = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    assert 0 < on_disk <= bound
    assert not (cache / digests[0][:2] / digests[0][2:4] / digests[0]).exists()  # least recently used: out
    assert store.local_path(digests[0]).read_bytes() == blobs[0]


def test_an_unreachable_store_says_so_instead_of_calling_blobs_missing(tmp_path):
    store = open_blob_store("s3://nowhere/jb", BlobStoreOptions(
        path=tmp_path / "store", endpoint=f"http://127.0.0.1:{free_port()}",
        env={"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}))
    with pytest.raises(BlobStoreUnavailable):
        store.put(b"x")
    with pytest.raises(BlobStoreUnavailable):
        store.get("0" * 64)
    with pytest.raises(BlobStoreUnavailable):
        store.ping()


def test_without_a_url_the_store_is_the_local_folder(tmp_path):
    store = open_blob_store(None, BlobStoreOptions(path=tmp_path / "store"))
    assert isinstance(store, LocalBlobStore)
    digest = store.put(b"local")
    assert (tmp_path / "store" / digest[:2] / digest[2:4] / digest).read_bytes() == b"local"
    store.ping()


def test_config_refuses_a_scheme_no_adapter_serves_and_names_those_that_do(tmp_path):
    config = write_config(tmp_path, db_url="sqlite:///x.db", storage={"url": "gs://bucket/x"})
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "storage.url" in str(caught.value) and "s3" in str(caught.value) and "file" in str(caught.value)
