"""Generated, realistic feedback texts for the benchmarks (never read from the corpus, so no test text leaks).

Texts are 1-12 filled clauses in several registers (median 3 clauses, about 25 words), a third of them informal.
"""

from __future__ import annotations

import random

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
