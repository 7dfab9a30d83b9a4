"""Tagging speed: texts/s in batch and the latency of one text, with and without evidence, plus peak RSS.

Texts are generated here from templates and a vocabulary of services, places, staff and amounts, in formal and
informal registers (median ~25 words); the corpus is never read.

    .venv/bin/python benchmarks/tag.py [--model-dir DIR] [--texts 1000] [--singles 200]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from model.analyzer import Analyzer
from model.batch import tag_dataframe, tag_file
from model.settings import Settings

SLOTS = {
    "service": ["KTP-el", "KK", "akta kelahiran", "SIM", "paspor", "BPJS Kesehatan", "izin usaha", "SKCK",
                "sertifikat tanah", "pajak kendaraan", "surat pindah", "NPWP", "bantuan sosial", "IMB"],
    "place": ["kantor kecamatan", "kelurahan", "Mal Pelayanan Publik", "kantor Samsat", "puskesmas", "RSUD",
              "kantor imigrasi", "kantor pajak", "Disdukcapil", "balai desa", "Polres", "kantor BPN"],
    "staff": ["petugas", "pegawai", "satpam", "ibu di loket 3", "bapak operator", "dokter jaga", "pak lurah",
              "mbak CS", "kepala seksi"],
    "time": ["2 jam", "3 hari", "seminggu", "sebulan lebih", "setengah hari", "dari subuh", "4 bulan"],
    "amount": ["50rb", "100 ribu", "Rp200.000", "20rb", "300 ribu", "uang rokok"],
    "app": ["aplikasi antrean", "website", "sistem online", "aplikasi SIGNAL", "portal OSS", "Mobile JKN"],
}  # fmt: skip
CLAUSES = [
    "urus {service} di {place} harus antre {time}",
    "{staff} minta {amount} biar {service} cepat jadi",
    "{staff} ramah dan sabar menjelaskan syarat {service}",
    "{app} error terus waktu mau daftar {service}",
    "data {service} saya salah ketik dan sudah {time} belum dibetulkan",
    "disuruh bolak-balik ke {place} cuma untuk fotokopi",
    "informasi di {app} beda dengan yang disampaikan {staff}",
    "{staff} main hp sambil ngobrol, warga yang antre dicuekin",
    "terima kasih untuk {staff} di {place} yang sudah membantu sampai selesai",
    "sekarang {service} bisa diurus lewat {app}, jauh lebih cepat",
    "data pribadi saya bocor setelah mengurus {service}",
    "{staff} membentak ibu-ibu lansia yang bertanya",
    "dilempar dari {place} ke {place} tanpa kejelasan",
    "jam buka {place} tidak sesuai pengumuman",
    "tolong tambah loket khusus disabilitas di {place}",
    "blanko {service} kosong katanya, sudah {time} menunggu",
    "biayanya transparan dan sesuai aturan",
    "{staff} tidak paham prosedur {service} yang baru",
    "ruang tunggu {place} panas, kursi kurang, toilet kotor",
    "{staff} datang terlambat padahal antrean sudah panjang",
    "antar instansi tidak koordinasi, data {service} harus diisi ulang",
    "pelayanan di {place} sekarang rapi dan tertib",
    "laporan saya lewat {app} tidak ditindaklanjuti sampai {time}",
    "ada calo di depan {place} yang menawarkan jalur cepat",
]
OPENINGS = ["", "", "", "Min, ", "Selamat pagi, ", "Dengan hormat, saya ingin menyampaikan bahwa ", "Jujur ya, ",
            "Mau lapor: ", "@pelayananpublik ", "Assalamualaikum, "]  # fmt: skip
ENDINGS = ["", ".", ".", "!!", " 🙏", " 👍", " 😡", ". Mohon diperbaiki.", ". Terima kasih.", " parah bgt"]
INFORMAL = {"tidak": "gak", "sudah": "udah", "saya": "sy", "terima kasih": "makasih", "yang": "yg", "untuk": "utk"}


def feedback_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` varied feedback texts: 1-12 filled clauses (median 3, ~25 words), a third in an informal register."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        count = min(12, max(1, round(rng.lognormvariate(0.95, 0.6))))
        clauses = [rng.choice(CLAUSES) for _ in range(count)]
        body = ". ".join(c.format(**{k: rng.choice(v) for k, v in SLOTS.items()}) for c in clauses)
        if rng.random() < 0.35:
            for formal, informal in INFORMAL.items():
                body = body.replace(formal, informal)
        texts.append(rng.choice(OPENINGS) + body + rng.choice(ENDINGS))
    return texts


def benchmark_settings(model_dir: Path | None) -> Settings:
    """``Settings.from_env()``, with ``model_dir`` when given."""
    return Settings.from_env(**({"model_dir": model_dir} if model_dir else {}))


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_rate(repeats: int, run) -> float:
    """Runs of ``run()`` per second, from the fastest of ``repeats`` (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1 / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, help="artifact folder (default: Settings().model_dir)")
    parser.add_argument("--texts", type=int, default=1000, help="texts tagged in batch")
    parser.add_argument("--singles", type=int, default=200, help="texts timed one at a time")
    parser.add_argument("--repeats", type=int, default=3, help="batch runs per figure; the fastest is shown")
    args = parser.parse_args()
    settings = benchmark_settings(args.model_dir)
    start = time.perf_counter()
    analyzer = Analyzer.load(settings=settings)
    load_seconds = time.perf_counter() - start
    texts = feedback_texts(args.texts, seed=1)
    words = [len(t.split()) for t in texts]
    analyzer.predict(texts[:16])  # warm-up: first-call allocations and the sentence splitter
    torch_threads = __import__("torch").get_num_threads()
    print(f"model {analyzer.version} from {settings.model_dir} (loaded in {load_seconds:.1f} s)")
    print(f"cores {os.cpu_count()}, torch threads {torch_threads}, chunk size {settings.chunk_size}")
    print(f"texts {len(texts)}: words median {statistics.median(words):.0f}, p95 {np.percentile(words, 95):.0f}")
    frame = pd.DataFrame({"id": [f"b{i}" for i in range(len(texts))], "text": texts})
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.parquet"
        frame.to_parquet(source)
        for evidence in (True, False):
            label = "with evidence   " if evidence else "without evidence"
            in_memory = best_rate(args.repeats, partial(tag_dataframe, frame, analyzer, settings, evidence))
            out = Path(folder) / "out.parquet"
            run = partial(tag_file, source, out, settings=settings, evidence=evidence, analyzer=analyzer)
            to_file = best_rate(args.repeats, run)
            print(
                f"batch {label}: {len(texts) * in_memory:7.1f} texts/s (tag_dataframe), "
                f"{len(texts) * to_file:7.1f} texts/s (tag_file, Parquet to Parquet)"
            )
    for evidence in (True, False):
        latencies = []
        for text in texts[: args.singles]:
            start = time.perf_counter()
            analyzer.predict([text], evidence=evidence)
            latencies.append((time.perf_counter() - start) * 1000)
        label = "with evidence   " if evidence else "without evidence"
        print(f"one text {label}: median {np.median(latencies):6.1f} ms, p95 {np.percentile(latencies, 95):6.1f} ms")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
