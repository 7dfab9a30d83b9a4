"""The label vocabulary: the seven BerAKHLAK values with their 21 indicators, polarities and sentiments.

Source: SE MenPANRB No. 20/2021 (panduan perilaku), carried into UU No. 20/2023 on ASN.
"""

from __future__ import annotations

from dataclasses import dataclass

POLARITIES = ("neg", "pos")
SENTIMENTS = ("negatif", "netral", "positif")


@dataclass(frozen=True)
class Indicator:
    """One behavioural indicator (panduan perilaku) of a core value."""

    id: str
    id_text: str
    en_text: str


@dataclass(frozen=True)
class CoreValue:
    """One BerAKHLAK core value."""

    id: str
    name: str
    name_en: str
    indicators: tuple[Indicator, ...]


def _value(value_id: str, name: str, name_en: str, *pairs: tuple[str, str]) -> CoreValue:
    indicators = tuple(Indicator(f"{value_id}.{n}", id_text, en_text) for n, (id_text, en_text) in enumerate(pairs, 1))
    return CoreValue(value_id, name, name_en, indicators)


CORE_VALUES: tuple[CoreValue, ...] = (
    _value(
        "berorientasi_pelayanan",
        "Berorientasi Pelayanan",
        "Service-oriented",
        ("Memahami dan memenuhi kebutuhan masyarakat", "Understands and meets the public's needs"),
        ("Ramah, cekatan, solutif, dan dapat diandalkan", "Friendly, quick, solution-minded and reliable"),
        ("Melakukan perbaikan tiada henti", "Improves without end"),
    ),
    _value(
        "akuntabel",
        "Akuntabel",
        "Accountable",
        (
            "Melaksanakan tugas dengan jujur, bertanggung jawab, cermat, disiplin, dan berintegritas tinggi",
            "Works honestly, responsibly, carefully, with discipline and high integrity",
        ),
        (
            "Menggunakan kekayaan dan barang milik negara secara bertanggung jawab, efektif, dan efisien",
            "Uses state property responsibly, effectively and efficiently",
        ),
        ("Tidak menyalahgunakan kewenangan jabatan", "Does not abuse the authority of office"),
    ),
    _value(
        "kompeten",
        "Kompeten",
        "Competent",
        (
            "Meningkatkan kompetensi diri untuk menjawab tantangan yang selalu berubah",
            "Raises own competence to meet changing challenges",
        ),
        ("Membantu orang lain belajar", "Helps others learn"),
        ("Melaksanakan tugas dengan kualitas terbaik", "Does the job with the best quality"),
    ),
    _value(
        "harmonis",
        "Harmonis",
        "Harmonious",
        ("Menghargai setiap orang apapun latar belakangnya", "Respects everyone whatever their background"),
        ("Suka menolong orang lain", "Likes to help others"),
        ("Membangun lingkungan kerja yang kondusif", "Builds a conducive work environment"),
    ),
    _value(
        "loyal",
        "Loyal",
        "Loyal",
        (
            "Memegang teguh ideologi Pancasila, UUD 1945, setia kepada NKRI serta pemerintahan yang sah",
            "Holds to Pancasila and the 1945 Constitution, loyal to the Republic and its lawful government",
        ),
        (
            "Menjaga nama baik sesama ASN, pimpinan, instansi, dan negara",
            "Guards the good name of fellow civil servants, leaders, the agency and the state",
        ),
        ("Menjaga rahasia jabatan dan negara", "Keeps official and state secrets"),
    ),
    _value(
        "adaptif",
        "Adaptif",
        "Adaptive",
        ("Cepat menyesuaikan diri menghadapi perubahan", "Adapts quickly to change"),
        ("Terus berinovasi dan mengembangkan kreativitas", "Keeps innovating and developing creativity"),
        ("Bertindak proaktif", "Acts proactively"),
    ),
    _value(
        "kolaboratif",
        "Kolaboratif",
        "Collaborative",
        (
            "Memberi kesempatan kepada berbagai pihak untuk berkontribusi",
            "Gives various parties a chance to contribute",
        ),
        (
            "Terbuka dalam bekerja sama untuk menghasilkan nilai tambah",
            "Open to cooperation that adds value",
        ),
        (
            "Menggerakkan pemanfaatan berbagai sumber daya untuk tujuan bersama",
            "Mobilises resources for a shared goal",
        ),
    ),
)

VALUE_IDS: tuple[str, ...] = tuple(v.id for v in CORE_VALUES)
VALUES_BY_ID = {v.id: v for v in CORE_VALUES}
