"""Device-side oracle for Qzo's task data (issue 6): Parquet as pyarrow writes it, and MeZO's numpy sampling.

Qzo's task fixtures (tests/fixtures/tasks) are written by Parquet.Net (tests/fixtures/tasks/generator). This script,
run where pandas/pyarrow/numpy are installed (the GPU machine), checks them against the Python side:
  1. pyarrow reads every Parquet.Net-written fixture with the Hub's schema (column names and types: ClassLabel as
     int64, idx int32, Sequence-of-dict as struct of lists) and the same rows as its JSONL export;
  2. pyarrow writes the JSONL rows again, with the Hub's schema, in both list layouts the Hub's files use
     (list<element> and the older list<item>), into OUT_DIR/<layout>/<task>/<split>-00000-of-00001.parquet, and
     `qzo tasks TASK --data DIR --rows SPLIT` must print exactly the JSONL rows for each of them;
  3. it prints np.random.seed(s); np.random.permutation(n) for a few (n, s), to compare with the constants of
     MersenneTwisterTests (seed 0, n 10 -> [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]), MeZO's sampling.

Run from the repository root (pyarrow >= 13, numpy; nothing is downloaded):
    python3 tests/oracle/tasks_reference.py /tmp/qzo-pyarrow-tasks path/to/qzo
where path/to/qzo is the published command (e.g. .gpu/qzo-device qzo, quoted as one argument). Exit status 0 means
every check passed. Not part of Qzo: nothing in the product needs Python.
"""
import json
import os
import shlex
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FIXTURES = os.path.join("tests", "fixtures", "tasks")
S, I32, I64, B = pa.string(), pa.int32(), pa.int64(), pa.bool_()

SCHEMAS = {
    "sst2": [("sentence", S), ("label", I64), ("idx", I32)],
    "rte": [("premise", S), ("hypothesis", S), ("idx", I32), ("label", I64)],
    "cb": [("premise", S), ("hypothesis", S), ("idx", I32), ("label", I64)],
    "boolq": [("question", S), ("passage", S), ("idx", I32), ("label", I64)],
    "multirc": [("paragraph", S), ("question", S), ("answer", S),
                ("idx", pa.struct([("paragraph", I32), ("question", I32), ("answer", I32)])), ("label", I64)],
    "wic": [("word", S), ("sentence1", S), ("sentence2", S), ("start1", I32), ("start2", I32), ("end1", I32), ("end2", I32),
            ("idx", I32), ("label", I64)],
    "wsc": [("text", S), ("span1_index", I32), ("span2_index", I32), ("span1_text", S), ("span2_text", S), ("idx", I32), ("label", I64)],
    "copa": [("premise", S), ("choice1", S), ("choice2", S), ("question", S), ("idx", I32), ("label", I64)],
    "record": [("passage", S), ("query", S), ("entities", pa.list_(S)),
               ("entity_spans", pa.struct([("text", pa.list_(S)), ("start", pa.list_(I32)), ("end", pa.list_(I32))])),
               ("answers", pa.list_(S)), ("idx", pa.struct([("passage", I32), ("query", I32)]))],
    "squad": [("id", S), ("title", S), ("context", S), ("question", S),
              ("answers", pa.struct([("text", pa.list_(S)), ("answer_start", pa.list_(I32))]))],
    "drop": [("section_id", S), ("query_id", S), ("passage", S), ("question", S),
             ("answers_spans", pa.struct([("spans", pa.list_(S)), ("types", pa.list_(S))]))],
}


def jsonl(task, split):
    with open(os.path.join(FIXTURES, "jsonl", task, f"{split}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def splits(task):
    return [f[:-len(".jsonl")] for f in sorted(os.listdir(os.path.join(FIXTURES, "jsonl", task)))]


def main(out_dir, qzo):
    failures = []
    for task, fields in SCHEMAS.items():
        schema = pa.schema(fields)
        for split in splits(task):
            rows = jsonl(task, split)
            ours = pq.read_table(os.path.join(FIXTURES, "parquet", task, f"{split}-00000-of-00001.parquet"))
            if not ours.schema.remove_metadata().equals(schema, check_metadata=False):
                # Parquet.Net and pyarrow may name list elements differently; compare the logical types.
                if [(f.name, str(f.type).replace("element", "item")) for f in ours.schema] != [(f.name, str(f.type)) for f in schema]:
                    failures.append(f"{task}/{split}: schema {ours.schema} is not the Hub's {schema}")
            if ours.to_pylist() != rows:
                failures.append(f"{task}/{split}: pyarrow reads other rows from the Parquet.Net file than the JSONL export")
            for layout, compliant in (("element", True), ("item", False)):
                folder = os.path.join(out_dir, layout, task)
                os.makedirs(folder, exist_ok=True)
                pq.write_table(pa.Table.from_pylist(rows, schema=schema), os.path.join(folder, f"{split}-00000-of-00001.parquet"),
                               use_compliant_nested_type=compliant)
                printed = subprocess.run(shlex.split(qzo) + ["tasks", task, "--data", folder, "--rows", split],
                                         capture_output=True, text=True, check=False)
                if printed.returncode != 0:
                    failures.append(f"{task}/{split} ({layout}): qzo failed: {printed.stderr.strip()}")
                elif [json.loads(line) for line in printed.stdout.splitlines() if line.strip()] != rows:
                    failures.append(f"{task}/{split} ({layout}): qzo reads other rows from pyarrow's file than the JSONL export")
    for n, seed in ((10, 0), (1000, 42), (872, 0), (9427, 1)):
        np.random.seed(seed)
        print(f"np.random.seed({seed}); np.random.permutation({n})[:10] = {np.random.permutation(n)[:10].tolist()}")
    for failure in failures:
        print("FAIL", failure)
    print("all task data checks passed" if not failures else f"{len(failures)} checks failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
