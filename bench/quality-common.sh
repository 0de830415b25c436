# Sourced by gptq-quality.sh and quantizer-quality.sh: the build, `qzo`, held-out loss, and the teachers with their data.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dotnet build -c Release "$repo/src/Qzo.Cli" > /dev/null
qzo() { dotnet "$repo/src/Qzo.Cli/bin/Release/net10.0/Qzo.Cli.dll" "$@"; }
json() { python3 -c "import json,sys; print('%.4f' % json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; } # file, key
loss() { qzo eval "$1" --data "$2" --json "$1.eval.json" > /dev/null; json "$1.eval.json" loss; }

# The synthesized teachers (Llama layout; `structured`: low-rank weights and embeddings, outlier channels, as trained models have).
structured_teacher="--hidden 256 --layers 4 --heads 8 --kv-heads 4 --vocab 1024 --low-rank 16 --outliers 4 --seed 1"
plain_teacher="--hidden 256 --layers 4 --heads 8 --kv-heads 4 --vocab 1024 --seed 1"

# In the current folder: teacher/ from the synth options, calib.jsonl (GPTQ's calibration) and test.jsonl (held out),
# 128 teacher samples of 64 tokens each.
make_teacher() {
  qzo synth --force --out teacher $1 > /dev/null
  qzo sample teacher --out calib.jsonl --count 128 --length 64 --seed 1 > /dev/null
  qzo sample teacher --out test.jsonl --count 128 --length 64 --seed 2 > /dev/null
}
calibration=(--calibration calib.jsonl --calibration-length 64)
