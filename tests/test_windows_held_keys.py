"""Which keys a capture waits to see let go on Windows (windows_rules.keys_to_wait_for): the modifiers and the
bound hotkeys' own keys, never an input-method mode key. Japanese 106/109 keyboards report their IME mode keys
as held while the mode is on, which Wine cannot show; the rule is pinned here."""

from __future__ import annotations

from phitray.desktop.windows_rules import IME_MODE_KEYS, MODIFIER_KEYS, keys_to_wait_for

VK_KANA, VK_KANJI, VK_CONVERT, VK_NONCONVERT = 0x15, 0x19, 0x1C, 0x1D
VK_DBE_ALPHANUMERIC, VK_DBE_HIRAGANA, VK_DBE_SBCSCHAR, VK_DBE_NOROMAN = 0xF0, 0xF2, 0xF3, 0xF6
VK_CAPITAL, VK_P, VK_SPACE, VK_A = 0x14, 0x50, 0x20, 0x41


def test_the_modifiers_and_the_bound_hotkeys_keys_count_as_held() -> None:
    watched = keys_to_wait_for(frozenset({VK_P, VK_SPACE}))
    assert {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0x5B, 0x5C} <= watched  # left and right Shift, Ctrl, Alt, Win
    assert {VK_P, VK_SPACE} <= watched
    assert VK_A not in watched  # a letter no hotkey uses: the person may be typing, it does not hold Ctrl+C
    assert keys_to_wait_for(frozenset()) == MODIFIER_KEYS


def test_no_input_method_mode_key_ever_counts() -> None:
    for vk in (VK_KANA, VK_KANJI, VK_CONVERT, VK_NONCONVERT, VK_DBE_ALPHANUMERIC, VK_DBE_HIRAGANA, VK_DBE_SBCSCHAR,
               VK_DBE_NOROMAN):
        assert vk in IME_MODE_KEYS
        assert vk not in keys_to_wait_for(frozenset({vk, VK_P}))
    # The JP keyboard's Eisu key is Caps Lock; it is neither a modifier nor a hotkey's key.
    assert VK_CAPITAL not in keys_to_wait_for(frozenset({VK_P}))
    # The generic Shift/Ctrl/Alt codes repeat the left and right ones and are not asked twice.
    assert not {0x10, 0x11, 0x12} & keys_to_wait_for(frozenset({VK_P}))


def test_keys_kept_while_the_picker_was_not_in_front_are_typed_again_as_pressed() -> None:
    from phitray.desktop.windows_rules import replay_events

    VK_LSHIFT, VK_O = 0xA0, 0x4F
    assert replay_events([(VK_P, False), (VK_O, True)]) == [
        (VK_P, False), (VK_P, True), (VK_LSHIFT, False), (VK_O, False), (VK_O, True), (VK_LSHIFT, True)]
    assert replay_events([]) == []
