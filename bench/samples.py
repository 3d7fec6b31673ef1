"""Texts the benchmarks feed the model: seeded, so every run measures the same load."""

from __future__ import annotations

import random


def long_text(words: int) -> str:
    """Readable English paragraphs of about `words` words: the map-reduce load."""
    rng = random.Random(3)
    subjects = ["The council", "A resident", "The shop owner", "The engineer", "The report", "The mayor"]
    verbs = ["proposed", "questioned", "supported", "measured", "described", "rejected"]
    objects = ["the new bicycle lanes", "the parking plan", "the traffic figures", "the school route",
               "the budget for repairs", "the timetable of the works"]
    paragraphs, count = [], 0
    while count < words:
        sentences = [f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}." for _ in range(6)]
        paragraphs.append(" ".join(sentences))
        count += sum(len(s.split()) for s in sentences)
    return "\n\n".join(paragraphs)
