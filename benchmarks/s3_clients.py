"""Which S3 client for the blob store: boto3, minio or obstore against a private SeaweedFS.

    .venv/bin/python benchmarks/s3_clients.py [--objects 200] [--large 20]

Puts and gets N objects of 1 KB and M objects of 5 MB with each client (one client object,
sequential requests, as one jiebang process does), after a HEAD (the idempotent put asks
first). Prints a Markdown table and writes benchmarks/results/s3_clients.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from support.servers.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedFS  # noqa: E402

Ops = tuple[Callable[[str, bytes], None], Callable[[str], bytes], Callable[[str], bool]]


def boto3_ops(endpoint: str, bucket: str) -> Ops:
    import boto3
    from botocore.exceptions import ClientError

    c = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                     aws_secret_access_key=SECRET_KEY, region_name="us-east-1")

    def head(key: str) -> bool:
        try:
            c.head_object(Bucket=bucket, Key=key)
            return True
        except ClientError:
            return False

    return (lambda k, d: c.put_object(Bucket=bucket, Key=k, Body=d) and None,
            lambda k: c.get_object(Bucket=bucket, Key=k)["Body"].read(), head)


def minio_ops(endpoint: str, bucket: str) -> Ops:
    from minio import Minio
    from minio.error import S3Error

    c = Minio(endpoint.removeprefix("http://"), access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)

    def get(k: str) -> bytes:
        r = c.get_object(bucket, k)
        try:
            return r.read()
        finally:
            r.close()
            r.release_conn()

    def head(k: str) -> bool:
        try:
            c.stat_object(bucket, k)
            return True
        except S3Error:
            return False

    return (lambda k, d: c.put_object(bucket, k, io.BytesIO(d), len(d)) and None, get, head)


def obstore_ops(endpoint: str, bucket: str) -> Ops:
    import obstore
    from obstore.store import S3Store

    s = S3Store(bucket, endpoint=endpoint, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
                region="us-east-1", client_options={"allow_http": True})

    def head(k: str) -> bool:
        try:
            obstore.head(s, k)
            return True
        except FileNotFoundError:
            return False

    return (lambda k, d: obstore.put(s, k, d) and None, lambda k: bytes(obstore.get(s, k).bytes()), head)


CLIENTS = {"boto3": boto3_ops, "minio": minio_ops, "obstore": obstore_ops}


def measure(ops: Ops, prefix: str, size: int, count: int) -> dict[str, float]:
    put, get, head = ops
    blobs = [os.urandom(size) for _ in range(count)]
    t0 = time.perf_counter()
    for i, data in enumerate(blobs):
        if not head(f"{prefix}/{i}"):
            put(f"{prefix}/{i}", data)
    t1 = time.perf_counter()
    for i, data in enumerate(blobs):
        assert get(f"{prefix}/{i}") == data
    t2 = time.perf_counter()
    return {"put_ms": (t1 - t0) * 1000 / count, "get_ms": (t2 - t1) * 1000 / count,
            "put_MBps": size * count / (t1 - t0) / 1e6, "get_MBps": size * count / (t2 - t1) / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=200)
    ap.add_argument("--large", type=int, default=20, help="how many 5 MB objects")
    args = ap.parse_args()
    server = SeaweedFS().start()
    try:
        results: dict[str, dict[str, dict[str, float]]] = {}
        failures: dict[str, str] = {}
        for name, make in CLIENTS.items():
            bucket = server.make_bucket(f"bench-{name}")
            ops = make(server.endpoint, bucket)
            try:
                measure(ops, "warm", 1024, 5)
                results[name] = {"1KB": measure(ops, "small", 1024, args.objects),
                                 "5MB": measure(ops, "large", 5 * 1024 * 1024, args.large)}
            except Exception as exc:  # a client this server does not get on with: say so
                failures[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
    finally:
        server.close()
    print(f"| client | 1 KB put ms | 1 KB get ms | 5 MB put MB/s | 5 MB get MB/s |  ({args.objects} × 1 KB, {args.large} × 5 MB)")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['1KB']['put_ms']:.2f} | {r['1KB']['get_ms']:.2f} | "
              f"{r['5MB']['put_MBps']:.0f} | {r['5MB']['get_MBps']:.0f} |")
    for name, why in failures.items():
        print(f"{name}: failed: {why}")
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "s3_clients.json").write_text(json.dumps({"results": results, "failures": failures}, indent=2))


if __name__ == "__main__":
    main()
