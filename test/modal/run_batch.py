"""Drives modal/container_entry.py's batch worker (what modal/app.py's plan_batch and
anonymize_chunk run) against an S3 server given by the R2_* environment, with the real CLI
(`doc-anon anonymize --regions ... --no-verify`, the classic engine). argv: repo root, bucket,
regions document. The bucket holds in/ (documents and a non-document); prints JSON."""
import json
import os
import sys

root, bucket, regions = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(root, "modal"))
import container_entry as entry  # noqa: E402

s3 = entry.s3_client()
src, dst = f"r2://{bucket}/in", f"r2://{bucket}/out/run1"
extra = ["--regions", regions, "--no-verify"]
out = {}
first = entry.pending_documents(s3, src, dst)
out["pending_first"] = first
# A first run that stopped after its first chunk (a preempted or cancelled batch).
out["chunk1"] = entry.anonymize_documents(entry.chunks(first, 2)[0], src, dst, extra, repo=root, s3=s3)
second = entry.pending_documents(s3, src, dst)
out["pending_rerun"] = second
out["rerun"] = [r for part in entry.chunks(second, 2) for r in entry.anonymize_documents(part, src, dst, extra, repo=root, s3=s3)]
out["pending_after"] = entry.pending_documents(s3, src, dst)
out["outputs"] = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/").get("Contents", []))
failed = [k for k in out["outputs"] if k.endswith(entry.FAILED_SUFFIX)]
out["failed_record"] = json.loads(s3.get_object(Bucket=bucket, Key=failed[0])["Body"].read()) if failed else None
report = json.loads(s3.get_object(Bucket=bucket, Key="out/run1/a.png.report.json")["Body"].read())
out["report_kind"] = report.get("kind")
try:
    entry.pending_documents(s3, src, f"r2://{bucket}/in/out")
    out["overlap"] = None
except ValueError as e:
    out["overlap"] = str(e)
print(json.dumps(out))
