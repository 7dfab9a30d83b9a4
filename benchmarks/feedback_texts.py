"""Generated, realistic-length Indonesian feedback texts for benchmarks (never the corpus test split).

Texts are assembled from clauses in several registers, so lengths follow the corpus (3 to ~170 words,
median near 25) without reusing any labelled text.
"""

from __future__ import annotations

import random

OPENINGS = [
    "Min, ", "Pagi pak, ", "Dengan hormat, saya warga Kel. Sukamaju ingin menyampaikan bahwa ", "", "", "",
    "@pelayananpublik ", "Saran saya: ", "Jujur ya, ", "Assalamualaikum, ",
]  # fmt: skip
CLAUSES = [
    "antre dari jam 7 pagi baru dipanggil jam 11",
    "petugas loketnya ramah dan cekatan",
    "aplikasinya error terus pas mau login, OTP gak pernah masuk",
    "diminta bayar 50rb biar berkas cepat selesai padahal gratis",
    "data di KK saya salah ketik dan harus bolak-balik benerin",
    "disuruh ke kantor kecamatan, di sana disuruh balik lagi ke kelurahan",
    "sekarang sudah bisa daftar online, mantap",
    "ruang tunggunya panas, kipas mati, kursi kurang",
    "pegawainya main hp sambil ngobrol, yang antre dicuekin",
    "makasih bu Sari sudah bantu sampai selesai",
    "informasi syaratnya tidak jelas, di web beda dengan di loket",
    "satpamnya bentak-bentak warga yang nanya",
    "pelayanan SIM sekarang cepat, kurang dari sejam",
    "BPJS saya belum aktif padahal sudah bayar iuran",
    "data pribadi saya kok bisa bocor ke pinjol",
    "tolong ditambah loket untuk lansia",
    "jam buka hari Sabtu sampai jam berapa ya",
    "sudah lapor lewat LAPOR! tapi tidak ada tindak lanjut sampai sekarang",
    "dokter di poli anak sabar sekali menjelaskan",
    "sistem antrean online di puskesmas sangat membantu",
]
ENDINGS = ["", "", ".", "!!", " 🙏", " 👍", " 😡", ". Tolong diperbaiki.", ". Terima kasih.", " bgt parah"]


def feedback_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` varied texts; one to twelve clauses each (median about four: ~25 words)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        count = min(12, max(1, int(rng.lognormvariate(1.25, 0.7))))
        body = ", ".join(rng.choice(CLAUSES) for _ in range(count))
        texts.append(rng.choice(OPENINGS) + body + rng.choice(ENDINGS))
    return texts
