import itertools
import random

from model.dedup import char_ngrams, jaccard, near_duplicate_pairs, normalise


def brute_force(texts, threshold):
    grams = [char_ngrams(t) for t in texts]
    return {(i, j) for i, j in itertools.combinations(range(len(texts)), 2) if jaccard(grams[i], grams[j]) >= threshold}


def test_normalise_lowercases_strips_punctuation_and_collapses_spaces():
    assert normalise("  Antri   LAMA!!  banget, ya?? ") == "antri lama banget ya"


def test_prefix_filter_finds_exactly_the_brute_force_pairs():
    rng = random.Random(3)
    words = [
        "petugas",
        "loket",
        "antre",
        "lama",
        "ramah",
        "ktp",
        "kk",
        "akta",
        "pungli",
        "calo",
        "aplikasi",
        "error",
        "login",
        "otp",
        "cepat",
    ]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 9))) for _ in range(150)]
    texts += [texts[5] + " ya", texts[9].upper(), "pelayanan " + texts[20]]
    found = {(i, j) for i, j, _ in near_duplicate_pairs(texts, 0.7)}
    assert found == brute_force(texts, 0.7)
    assert (5, 150) in found


def test_different_texts_are_not_pairs():
    texts = ["Antrean di Dukcapil lama sekali", "Aplikasi Mobile JKN tidak bisa login sejak kemarin"]
    assert near_duplicate_pairs(texts) == []
