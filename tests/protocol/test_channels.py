import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goval._proto.api_pb2 import CloseChannel, CloseChannelRes, OpenChannel
from goval.protocol.channels import ChannelTable, OpenRefused

CREATE, ATTACH, ATTACH_OR_CREATE = (
    OpenChannel.CREATE,
    OpenChannel.ATTACH,
    OpenChannel.ATTACH_OR_CREATE,
)
TRY_CLOSE, DISCONNECT, CLOSE = CloseChannel.TRY_CLOSE, CloseChannel.DISCONNECT, CloseChannel.CLOSE


def test_channel_ids_start_at_one_and_are_never_reused() -> None:
    table = ChannelTable()
    first = table.open(2, "exec", "", CREATE).channel
    table.close(2, first.id, TRY_CLOSE, may_destroy=True)
    second = table.open(2, "exec", "", CREATE).channel
    assert (first.id, second.id) == (1, 2)


def test_attach_or_create_on_an_existing_name_attaches_to_the_same_channel() -> None:
    table = ChannelTable()
    created = table.open(2, "shell", "shell", ATTACH_OR_CREATE)
    attached = table.open(3, "shell", "shell", ATTACH_OR_CREATE)
    assert created.created and not attached.created
    assert created.channel is attached.channel
    assert list(attached.channel.sessions) == [2, 3]


def test_the_same_name_under_another_service_is_another_channel() -> None:
    table = ChannelTable()
    a = table.open(2, "shell", "x", ATTACH_OR_CREATE).channel
    b = table.open(2, "exec", "x", ATTACH_OR_CREATE).channel
    assert a.id != b.id


def test_create_on_an_existing_name_repoints_the_name_and_keeps_the_old_channel() -> None:
    table = ChannelTable()
    old = table.open(2, "chat", "chat", CREATE).channel
    new = table.open(3, "chat", "chat", CREATE).channel
    assert new.id != old.id
    assert table.get(old.id) is old and list(old.sessions) == [2]
    assert table.open(4, "chat", "chat", ATTACH).channel is new


def test_anonymous_channels_are_never_attachable() -> None:
    table = ChannelTable()
    table.open(2, "exec", "", CREATE)
    with pytest.raises(OpenRefused, match="^no channel named $"):
        table.open(3, "exec", "", ATTACH)
    assert table.open(3, "exec", "", ATTACH_OR_CREATE).created


def test_attach_to_a_missing_name_is_refused() -> None:
    with pytest.raises(OpenRefused, match="^no channel named ghost$"):
        ChannelTable().open(2, "shell", "ghost", ATTACH)


def test_attaching_twice_is_refused() -> None:
    table = ChannelTable()
    table.open(2, "shell", "s", ATTACH_OR_CREATE)
    with pytest.raises(OpenRefused, match="^already attached: s$"):
        table.open(2, "shell", "s", ATTACH)


def test_a_session_may_hold_at_most_the_channel_limit() -> None:
    table = ChannelTable(max_per_session=2)
    table.open(2, "exec", "", CREATE)
    table.open(2, "exec", "", CREATE)
    with pytest.raises(OpenRefused, match="^too many channels$"):
        table.open(2, "exec", "", CREATE)
    assert table.open(3, "exec", "", CREATE).created


@pytest.mark.parametrize("channel_id", [0, 99])
def test_closing_an_unknown_channel_does_nothing(channel_id: int) -> None:
    outcome = ChannelTable().close(2, channel_id, TRY_CLOSE, may_destroy=True)
    assert outcome.status == CloseChannelRes.NOTHING and outcome.channel is None


def test_closing_a_channel_the_session_does_not_hold_does_nothing() -> None:
    table = ChannelTable()
    channel = table.open(2, "shell", "s", ATTACH_OR_CREATE).channel
    outcome = table.close(3, channel.id, CLOSE, may_destroy=True)
    assert outcome.status == CloseChannelRes.NOTHING
    assert list(channel.sessions) == [2]


def test_try_close_detaches_and_destroys_only_when_nobody_remains() -> None:
    table = ChannelTable()
    channel = table.open(2, "shell", "s", ATTACH_OR_CREATE).channel
    table.open(3, "shell", "s", ATTACH_OR_CREATE)
    first = table.close(2, channel.id, TRY_CLOSE, may_destroy=True)
    assert first.status == CloseChannelRes.DISCONNECT and not first.destroyed
    assert first.detached == (2,)
    last = table.close(3, channel.id, TRY_CLOSE, may_destroy=True)
    assert last.status == CloseChannelRes.CLOSE and last.destroyed
    assert table.get(channel.id) is None


def test_disconnect_keeps_a_named_channel_alive_with_nobody_attached() -> None:
    table = ChannelTable()
    channel = table.open(2, "shell", "s", ATTACH_OR_CREATE).channel
    outcome = table.close(2, channel.id, DISCONNECT, may_destroy=True)
    assert outcome.status == CloseChannelRes.DISCONNECT and not outcome.destroyed
    assert table.get(channel.id) is channel and not channel.sessions
    assert table.open(3, "shell", "s", ATTACH).channel is channel


def test_disconnect_destroys_an_anonymous_channel() -> None:
    table = ChannelTable()
    channel = table.open(2, "exec", "", CREATE).channel
    outcome = table.close(2, channel.id, DISCONNECT, may_destroy=True)
    assert outcome.status == CloseChannelRes.CLOSE and outcome.destroyed


def test_close_by_a_writer_destroys_and_detaches_everyone() -> None:
    table = ChannelTable()
    channel = table.open(2, "shell", "s", ATTACH_OR_CREATE).channel
    table.open(3, "shell", "s", ATTACH_OR_CREATE)
    outcome = table.close(2, channel.id, CLOSE, may_destroy=True)
    assert outcome.status == CloseChannelRes.CLOSE and outcome.destroyed
    assert set(outcome.detached) == {2, 3}
    assert table.held_by(3) == frozenset()
    with pytest.raises(OpenRefused):
        table.open(4, "shell", "s", ATTACH)


def test_close_by_a_reader_acts_like_try_close() -> None:
    table = ChannelTable()
    channel = table.open(2, "chat", "chat", ATTACH_OR_CREATE).channel
    table.open(3, "chat", "chat", ATTACH_OR_CREATE)
    outcome = table.close(3, channel.id, CLOSE, may_destroy=False)
    assert outcome.status == CloseChannelRes.DISCONNECT
    assert list(channel.sessions) == [2]


def test_socket_loss_disconnects_every_channel_of_the_session() -> None:
    table = ChannelTable()
    named = table.open(2, "shell", "s", ATTACH_OR_CREATE).channel
    anonymous = table.open(2, "exec", "", CREATE).channel
    outcomes = table.disconnect_all(2)
    assert [o.destroyed for o in outcomes] == [False, True]
    assert table.get(named.id) is named and table.get(anonymous.id) is None
    assert table.held_by(2) == frozenset()


def test_destroy_of_a_missing_channel_does_nothing() -> None:
    assert ChannelTable().destroy(5).status == CloseChannelRes.NOTHING


def test_destroying_a_repointed_name_keeps_the_new_channel_reachable() -> None:
    table = ChannelTable()
    old = table.open(2, "chat", "c", CREATE).channel
    new = table.open(3, "chat", "c", CREATE).channel
    table.destroy(old.id)
    assert table.open(4, "chat", "c", ATTACH).channel is new
    assert [c.id for c in table.channels()] == [new.id]


operations = st.lists(
    st.tuples(
        st.sampled_from(["open", "close", "lose"]),
        st.integers(2, 5),
        st.sampled_from(["", "a", "b"]),
        st.sampled_from([CREATE, ATTACH, ATTACH_OR_CREATE]),
        st.sampled_from([TRY_CLOSE, DISCONNECT, CLOSE]),
        st.integers(0, 8),
    ),
    max_size=60,
)


@settings(max_examples=300)
@given(operations)
def test_the_table_stays_consistent_under_any_sequence(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    table = ChannelTable(max_per_session=4)
    issued: list[int] = []
    for kind, session, name, open_action, close_action, pick in ops:
        if kind == "open":
            try:
                outcome = table.open(session, "svc", name, open_action)
                if outcome.created:
                    issued.append(outcome.channel.id)
            except OpenRefused:
                pass
        elif kind == "close":
            table.close(session, pick, close_action, may_destroy=pick % 2 == 0)
        else:
            table.disconnect_all(session)
        # ids strictly increase, every held id exists and lists the session, limits hold
        assert issued == sorted(set(issued))
        for held_session in range(2, 6):
            held = table.held_by(held_session)
            assert len(held) <= 4
            for channel_id in held:
                channel = table.get(channel_id)
                assert channel is not None and held_session in channel.sessions
        for channel in table.channels():
            for member in channel.sessions:
                assert channel.id in table.held_by(member)
            if channel.anonymous:
                assert channel.sessions, "an anonymous channel without sessions must be gone"
