"""Control strings broken in the person's text and mended in the answer, on any text and at any chunk split.
The tokenizers themselves are held to it in test_backends.py."""

from __future__ import annotations

import random

from phitray.backends.plaintext import JOINER, ControlStrings, added_tokens

STARTER = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>", "<filename>",
           "<gh_stars>", "<issue_start>", "<issue_comment>", "<issue_closed>", "<jupyter_start>", "<jupyter_text>",
           "<jupyter_code>", "<jupyter_output>", "<jupyter_script>", "<empty_output>"]
PHI3 = ["<unk>", "<s>", "</s>", "<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>",
        "<|placeholder1|>"]
PIECES = ["<", "|", ">", "/", "s", "end", "endoftext", "im_", "start", "system", "user", " ", "\n", "x", "é",
          "\U0001F469\u200D\U0001F4BB", *STARTER, *PHI3]


def random_texts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40))) for _ in range(count)]


def test_no_control_string_survives_and_the_answer_gets_the_text_back() -> None:
    controls = ControlStrings(STARTER + PHI3)
    for text in random_texts(3000):
        broken = controls.neutralise(text)
        assert not any(string in broken for string in controls.strings), (text, broken)
        assert controls.restore(broken) == text
        assert broken.replace(JOINER, "") == text  # nothing but joiners was added


def test_the_longer_string_is_broken_whole() -> None:
    controls = ControlStrings(PHI3)
    assert controls.neutralise("a<|endoftext|>b<|end|>") == f"a<{JOINER}|endoftext|>b<{JOINER}|end|>"
    assert controls.neutralise("plain text, emoji \U0001F469\u200D\U0001F4BB kept") == \
        "plain text, emoji \U0001F469\u200D\U0001F4BB kept"
    assert ControlStrings(()).neutralise("<|end|>") == "<|end|>"


def test_a_streamed_answer_is_mended_at_every_split() -> None:
    controls = ControlStrings(STARTER + PHI3)
    for text in random_texts(300, seed=11):
        answer = controls.neutralise(text)
        for split in range(len(answer) + 1):
            restorer = controls.restorer()
            shown = restorer.feed(answer[:split]) + restorer.feed(answer[split:]) + restorer.flush()
            assert shown == text, (answer, split)
    # Chunk by chunk, what is held back is at most one broken string's start.
    restorer = controls.restorer()
    out = []
    for char in controls.neutralise("a <|im_end|> b <|end|> c <"):
        out.append(restorer.feed(char))
        assert len(restorer.held) < len("<" + JOINER + "|jupyter_output|>")
    assert "".join(out) + restorer.flush() == "a <|im_end|> b <|end|> c <"


def test_the_strings_a_tokenizer_folder_matches_whole(tmp_path) -> None:
    (tmp_path / "tokenizer.json").write_text('{"added_tokens": [{"id": 0, "content": "<|end|>", "special": true},'
                                             ' {"id": 1, "content": "</s>", "special": false}]}')
    assert added_tokens(tmp_path) == ["<|end|>", "</s>"]
    (tmp_path / "tokenizer.json").write_text("{broken")
    (tmp_path / "tokenizer_config.json").write_text('{"added_tokens_decoder": {"7": {"content": "<|user|>"}}}')
    assert added_tokens(tmp_path) == ["<|user|>"]
    assert added_tokens(tmp_path / "nowhere") == []
