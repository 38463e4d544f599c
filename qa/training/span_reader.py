"""Train an extractive span reader: all-MiniLM-L6-v2 fine-tuned end to end with a start/end head.

    python -m qa.training.span_reader TRAIN.json[.gz] --out DIR [--eval DEV.json[.gz]] [--epochs 2] ...

SQuAD-format data. Each question and its paragraph become one or more windows of ``--max-len`` word
pieces (``--stride`` overlap); the head learns the answer's first and last word piece (windows without
the answer point at [CLS]). Deterministic for a seed; a checkpoint (safetensors weights + JSON state) is
written after every epoch and ``--resume`` continues from it (the optimizer restarts from its moments).
At the end the weights are saved as float16 safetensors with a model card (README.md) beside them, and
the reader is scored on ``--eval`` with the gold paragraph given (SQuAD EM / F1).
Runs on a GPU when there is one, else on the CPU; in bfloat16 autocast on a GPU and on a CPU that
multiplies bfloat16 natively (AMX or AVX-512 BF16), attention through PyTorch's fused
``scaled_dot_product_attention``. ``--attention-dropout 0`` lets a CPU use its fused attention kernel
(with dropout on the attention weights it falls back to separate matrix products: ~3x slower a step).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import platform
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def load_squad(path: str | Path, limit: int | None = None, seed: int = 0) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    examples = []
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = [a for a in qa.get("answers", [])]
                examples.append({"id": qa["id"], "question": qa["question"].strip(), "context": para["context"],
                                 "answers": answers, "impossible": bool(qa.get("is_impossible"))})
    if limit:
        random.Random(seed).shuffle(examples)
        examples = examples[:limit]
    return examples


def featurize(tokenizer, examples: list[dict], max_len: int, stride: int, train: bool) -> dict:
    """Windows of question + context with answer token positions (train) or offsets (eval)."""
    enc = tokenizer(
        [e["question"] for e in examples], [e["context"] for e in examples],
        truncation="only_second", max_length=max_len, stride=stride, return_overflowing_tokens=True,
        return_offsets_mapping=True, padding="max_length",
    )
    mapping = enc.pop("overflow_to_sample_mapping")
    starts, ends, offsets = [], [], []
    for i, offs in enumerate(enc["offset_mapping"]):
        seq = enc.sequence_ids(i)
        ctx = [j for j, s in enumerate(seq) if s == 1]
        offsets.append([tuple(o) if seq[j] == 1 else None for j, o in enumerate(offs)])
        ex = examples[mapping[i]]
        s = e = 0
        if train and ex["answers"] and not ex["impossible"]:
            a = ex["answers"][0]
            a_start, a_end = a["answer_start"], a["answer_start"] + len(a["text"])
            if ctx and offs[ctx[0]][0] <= a_start and offs[ctx[-1]][1] >= a_end:
                s = next(j for j in ctx if offs[j][1] > a_start)
                e = next(j for j in reversed(ctx) if offs[j][0] < a_end)
        starts.append(s)
        ends.append(e)
    return {"input_ids": np.array(enc["input_ids"]), "attention_mask": np.array(enc["attention_mask"]),
            "token_type_ids": np.array(enc["token_type_ids"]), "start": np.array(starts), "end": np.array(ends),
            "example": np.array(mapping), "offsets": offsets}


def predict(model, tokenizer, examples: list[dict], max_len: int, stride: int, batch: int, device) -> list[dict]:
    """Per example, the reader's best span over its windows (``score``, character ``start`` / ``end``,
    None where no window holds a span) and its "no answer" score: the lowest [CLS] start + end logit of
    its windows, as SQuAD 2.0 readers compare them."""
    import torch

    from qa.answer.span_model import best_spans

    feats = featurize(tokenizer, examples, max_len, stride, train=False)
    was_training = model.training
    model.eval()
    preds = [{"score": -math.inf, "start": None, "end": None, "null": math.inf} for _ in examples]
    n = len(feats["input_ids"])
    with torch.no_grad():
        for b in range(0, n, batch):
            # scores comparable across machines: bfloat16 only where training has always used it (a GPU)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                out = model(**_batch(feats, np.arange(n)[b : b + batch], device))
            starts, ends = out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()
            for i in range(starts.shape[0]):
                pred = preds[int(feats["example"][b + i])]
                score, a, e = best_spans(starts[i], ends[i], feats["offsets"][b + i])
                if a is not None and score > pred["score"]:
                    pred.update(score=score, start=a, end=e)
                pred["null"] = min(pred["null"], float(starts[i][0] + ends[i][0]))
    model.train(was_training)
    return preds


def evaluate(model, tokenizer, examples, args, device) -> dict:
    """SQuAD EM / F1 of the best span, the gold paragraph given."""
    return squad_scores(examples, predict(model, tokenizer, examples, args.max_len, args.stride, args.eval_batch, device))


def squad_scores(examples: list[dict], preds: list[dict]) -> dict:
    """EM / F1 of ``predict``'s best spans against the examples' gold answers."""
    from qa.evaluation.metrics import exact_match, f1

    em = f1s = 0.0
    for ex, p in zip(examples, preds):
        golds = [a["text"] for a in ex["answers"]]
        pred = ex["context"][p["start"]:p["end"]] if p["start"] is not None else ""
        em += exact_match(pred, golds)
        f1s += f1(pred, golds)
    return {"em": em / len(examples), "f1": f1s / len(examples), "questions": len(examples)}


def _batch(feats: dict, idx: np.ndarray, device) -> dict:
    """The model inputs of windows ``idx``, cut to the longest of them (padding past it is wasted compute)."""
    import torch

    longest = int(feats["attention_mask"][idx].sum(axis=1).max())
    return {k: torch.tensor(feats[k][idx][:, :longest], device=device)
            for k in ("input_ids", "attention_mask", "token_type_ids")}


def batches_by_length(order: np.ndarray, lengths: np.ndarray, batch: int, rng: np.random.Generator,
                      pool: int = 50) -> list[np.ndarray]:
    """``order`` cut into batches of windows of similar length: each run of ``pool`` batches is sorted
    by length before it is cut, and the batches are then shuffled, so a batch pads little."""
    out = []
    for p in range(0, len(order), batch * pool):
        run = order[p : p + batch * pool]
        run = run[np.argsort(lengths[run], kind="stable")]
        out.extend(run[b : b + batch] for b in range(0, len(run), batch))
    rng.shuffle(out)
    return out


def add_arguments(ap) -> None:
    ap.add_argument("data", help="SQuAD-format training file (.json or .json.gz)")
    ap.add_argument("--out", required=True, help="output folder for weights, checkpoint and model card")
    ap.add_argument("--base", default=None, help="base model folder (default: the packaged all-MiniLM-L6-v2)")
    ap.add_argument("--eval", default=None, help="SQuAD-format file scored with the gold paragraph given")
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--eval-batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=float, default=0.1, help="share of steps with a rising learning rate")
    ap.add_argument("--max-len", type=int, default=384)
    ap.add_argument("--stride", type=int, default=128)
    ap.add_argument("--limit", type=int, default=None, help="train on a random subset of N questions")
    ap.add_argument("--eval-limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop training after this long (then save)")
    ap.add_argument("--freeze-embeddings", action="store_true",
                    help="keep the word-piece embeddings as they are (faster on a CPU; less forgetting)")
    ap.add_argument("--teacher", default=None,
                    help="a reader folder to distil from on windows that hold an answer (less forgetting)")
    ap.add_argument("--distill", type=float, default=0.5,
                    help="with --teacher: weight of the teacher's soft start/end targets against the gold span")
    ap.add_argument("--temperature", type=float, default=2.0, help="with --teacher: softmax temperature")
    ap.add_argument("--attention-dropout", type=float, default=None, metavar="P",
                    help="dropout on the attention weights (default: the base model's, 0.1); 0 lets a CPU use "
                         "its fused attention kernel, ~3x faster a step")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="qa train-reader", description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


@dataclass
class TrainResult:
    step: int
    total_steps: int
    windows: int
    losses: list[float]
    seconds: float


def run(args) -> int:
    import torch
    from transformers import AutoTokenizer

    t_start = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    from qa.inference.model_files import embedder_weights

    continued = args.base is not None
    if args.base is None:
        args.base = str(embedder_weights())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # the base model's vocabulary, also when continuing from a reader (whose folder holds only weights)
    tokenizer = AutoTokenizer.from_pretrained(str(embedder_weights()))
    model = load_model(args.base, device, attention_dropout=args.attention_dropout)

    examples = load_squad(args.data, args.limit, args.seed)
    t0 = time.time()
    feats = featurize(tokenizer, examples, args.max_len, args.stride, train=True)
    print(f"{len(examples)} questions -> {len(feats['input_ids'])} windows in {time.time() - t0:.0f} s", file=sys.stderr)
    teacher = None
    if args.teacher:
        teacher = load_model(args.teacher, device).eval()
    result = train(model, feats, args, out, device, teacher=teacher)

    scores = {}
    if args.eval:
        dev = load_squad(args.eval, args.eval_limit, args.seed)
        scores = evaluate(model, tokenizer, dev, args, device)
        print(f"gold-paragraph eval: EM {scores['em']:.4f} F1 {scores['f1']:.4f} on {scores['questions']}", file=sys.stderr)

    model.half().save_pretrained(out, safe_serialization=True)
    hardware = (torch.cuda.get_device_name(0) if device.type == "cuda"
                else f"CPU ({_cpu_name()}, {torch.get_num_threads()} threads"
                     f"{', bfloat16' if use_bf16(device) else ''})")
    card = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "task": "extractive question answering (start/end span head)",
        "training_data": f"{Path(args.data).name}: {len(examples)} questions, {result.windows} windows",
        "no_answer_examples": sum(e["impossible"] for e in examples),
        "continued_from": Path(args.base).name if continued else None,
        "frozen": "word-piece embeddings" if args.freeze_embeddings else None,
        "distilled_from": ({"teacher": Path(args.teacher).name, "weight": args.distill, "temperature": args.temperature}
                           if args.teacher else None),
        "hyperparameters": {k: getattr(args, k) for k in ("epochs", "batch", "lr", "warmup", "max_len", "stride",
                                                            "seed", "limit", "attention_dropout")},
        "final_loss": float(np.mean(result.losses[-200:])) if result.losses else None,
        "eval": {"data": Path(args.eval).name if args.eval else None, **scores},
        "steps": f"{result.step} of {result.total_steps}",
        "train_seconds": round(result.seconds, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "hardware": hardware,
        "torch": torch.__version__,
        "dtype": "float16 (safetensors)",
    }
    (out / "training.json").write_text(json.dumps(card, indent=2))
    (out / "README.md").write_text(model_card(card))
    print(json.dumps(card))
    return 0


def load_model(folder: str, device, attention_dropout: float | None = None):
    """A question-answering model in float32 on ``device``, its attention through PyTorch's fused
    ``scaled_dot_product_attention``; ``attention_dropout`` replaces the configured dropout on the
    attention weights."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    extra = {} if attention_dropout is None else {"attention_probs_dropout_prob": attention_dropout}
    return AutoModelForQuestionAnswering.from_pretrained(folder, dtype=torch.float32, attn_implementation="sdpa",
                                                         **extra).to(device)


def use_bf16(device) -> bool:
    """bfloat16 autocast: on a GPU, and on a CPU whose flags say it multiplies bfloat16 natively (AMX,
    AVX-512 BF16); elsewhere bfloat16 is emulated and slower than float32."""
    if device.type == "cuda":
        return True
    return device.type == "cpu" and bool(_cpu_flags() & {"amx_bf16", "avx512_bf16"})


def _cpu_flags() -> set[str]:
    """The CPU's feature flags (empty where ``/proc/cpuinfo`` is missing: not Linux, so float32)."""
    return set(_cpuinfo("flags").split())


def _cpu_name() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def _cpuinfo(key: str) -> str:
    """The first value of ``key`` in ``/proc/cpuinfo``; "" where there is none."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    line = next((ln for ln in text.splitlines() if ln.split(":", 1)[0].strip() == key), "")
    return line.split(":", 1)[-1].strip()


def _schedule(opt, total_steps: int, warmup: float, first: int):
    """Linear warm-up over ``warmup`` of the steps, then linear decay to 0; resumes at step ``first``."""
    import torch

    warm = max(1, int(total_steps * warmup))

    def lr_factor(s: int) -> float:
        s += first
        return min((s + 1) / warm, max(0.0, (total_steps - s) / max(1, total_steps - warm)))

    return torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)


def distillation_loss(student_start, student_end, teacher_start, teacher_end, attention_mask, answered,
                      temperature: float):
    """Kullback-Leibler divergence of the student's start and end distributions from the teacher's, both
    softened by ``temperature`` and scaled by its square (Hinton et al.), over the windows that hold an
    answer (``answered``; a teacher trained without "no answer" would pull the others away from it),
    padding left out. 0 when no window holds an answer."""
    import torch.nn.functional as F

    if not bool(answered.any()):
        return student_start.new_zeros(())
    pad = attention_mask[answered] == 0
    total = student_start.new_zeros(())
    for s, t in ((student_start, teacher_start), (student_end, teacher_end)):
        s = s[answered].masked_fill(pad, -1e4) / temperature
        t = t[answered].masked_fill(pad, -1e4) / temperature
        total = total + F.kl_div(F.log_softmax(s, dim=-1), F.log_softmax(t, dim=-1), log_target=True,
                                 reduction="batchmean")
    return total / 2 * temperature**2


def train(model, feats: dict, args, out: Path, device, teacher=None) -> TrainResult:
    """AdamW over shuffled windows, a checkpoint at the end of each epoch (``--resume`` continues from it).
    With a ``teacher``, the loss mixes the gold span's with the teacher's soft targets (``--distill``)."""
    import torch
    from safetensors.torch import load_file, save_file
    from tqdm import tqdm

    n = len(feats["input_ids"])
    if args.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    rng = np.random.default_rng(args.seed)
    lengths = feats["attention_mask"].sum(axis=1)
    epochs = [batches_by_length(rng.permutation(n), lengths, args.batch, rng) for _ in range(math.ceil(args.epochs))]
    steps_per_epoch = len(epochs[0])
    total_steps = max(1, int(steps_per_epoch * args.epochs))
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    state_file, ckpt_file = out / "checkpoint.json", out / "checkpoint.safetensors"
    step = 0
    if args.resume and state_file.exists():
        step = json.loads(state_file.read_text())["step"]
        model.load_state_dict(load_file(str(ckpt_file), device=str(device)))
        print(f"resumed at step {step}", file=sys.stderr)
    sched = _schedule(opt, total_steps, args.warmup, first=step)
    bf16 = use_bf16(device)  # read once: it looks at /proc/cpuinfo
    model.train()
    bar = tqdm(total=total_steps, initial=step, unit="step", file=sys.stderr, mininterval=5)
    losses: list[float] = []
    t_train = time.time()
    deadline = time.time() + args.max_minutes * 60 if args.max_minutes else math.inf
    while step < total_steps:
        if time.time() > deadline:
            print(f"time limit: stopping at step {step} of {total_steps}", file=sys.stderr)
            break
        epoch, pos = divmod(step, steps_per_epoch)
        idx = epochs[epoch][pos]
        batch = _batch(feats, idx, device)
        starts = torch.tensor(feats["start"][idx], device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out_ = model(**batch, start_positions=starts, end_positions=torch.tensor(feats["end"][idx], device=device))
            loss = out_.loss
            if teacher is not None:
                with torch.no_grad():
                    t = teacher(**batch)
                soft = distillation_loss(out_.start_logits.float(), out_.end_logits.float(), t.start_logits.float(),
                                         t.end_logits.float(), batch["attention_mask"], starts > 0, args.temperature)
                loss = (1 - args.distill) * loss + args.distill * soft
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        step += 1
        bar.update(1)
        if step % 200 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-200:]):.3f}")
        if step % steps_per_epoch == 0 or step == total_steps:
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(ckpt_file))
            state_file.write_text(json.dumps({"step": step, "total_steps": total_steps}))
    bar.close()
    return TrainResult(step, total_steps, n, losses, time.time() - t_train)


def model_card(c: dict) -> str:
    ev = c["eval"]
    score = (f"EM {100 * ev['em']:.1f} / F1 {100 * ev['f1']:.1f} on {ev['questions']} questions of {ev['data']}, "
             "gold paragraph given") if ev.get("em") is not None else "not evaluated"
    hp = ", ".join(f"{k}={v}" for k, v in c["hyperparameters"].items())
    history = f"\n- Before that: {c['history']}" if c.get("history") else ""
    tuned = "all 6 layers fine-tuned" + (f" ({c['frozen']} frozen)" if c.get("frozen") else "")
    if c.get("continued_from"):
        tuned += f", continuing from the reader in `{c['continued_from']}`"
    if c.get("no_answer_examples"):
        limits = (f"{c['no_answer_examples']} of the questions are paired with a passage that does not answer them "
                  "(target: [CLS], as SQuAD 2.0 readers are trained), so the [CLS] score says \"no answer here\"; "
                  "the engine still decides \"not found\" from its calibrated confidence, which reads that score.")
    else:
        limits = ("it always proposes a span (it was not trained to abstain),\n"
                  "  so the engine decides \"not found\" from its own calibrated confidence.")
    return f"""# Span reader: {c['base_model']} fine-tuned for extractive QA

- Task: {c['task']}. Input: `[CLS] question [SEP] passage [SEP]`, at most {c['hyperparameters']['max_len']} word pieces.
- Base model: {c['base_model']} (Apache-2.0), {tuned}, plus a 384x2 linear head.
- Training data: {c['training_data']} (SQuAD v1.1 train, CC BY-SA 4.0).{history}
- Hyperparameters: {hp}; AdamW (weight decay 0.01), linear warm-up and decay, bf16 autocast where the hardware
  multiplies bf16 natively.
- Score: {score}.
- Training time: {c['train_seconds']} s of training ({c['total_seconds']} s in all) on {c['hardware']}, torch {c['torch']}.
- Weights: {c['dtype']}. Made by `qa train-reader` (see qa/training/span_reader.py).
- Limits: trained on English Wikipedia paragraphs; {limits}
"""


if __name__ == "__main__":
    sys.exit(main())
