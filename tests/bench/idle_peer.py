#!/usr/bin/env python3
"""The peer of the daemon idle benchmark: the polling loop a Python service
would run with botocore (what the aws CLI is built on) - every POLL seconds,
one ListObjectsV2 with delimiter '/' and start-after per input prefix.
Usage: idle_peer.py ENDPOINT BUCKET POLL_SECONDS PREFIX...  (runs until killed)"""
import sys
import time

import botocore.session

endpoint, bucket, poll = sys.argv[1], sys.argv[2], float(sys.argv[3])
prefixes = sys.argv[4:]
client = botocore.session.get_session().create_client("s3", endpoint_url=endpoint)
newest = {p: "" for p in prefixes}
while True:
    for p in prefixes:
        kwargs = {"Bucket": bucket, "Prefix": p, "Delimiter": "/"}
        if newest[p]:
            kwargs["StartAfter"] = newest[p]
        for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
            for cp in page.get("CommonPrefixes", []):
                newest[p] = max(newest[p], cp["Prefix"])
    sys.stdout.write("poll\n")
    sys.stdout.flush()
    time.sleep(poll)
