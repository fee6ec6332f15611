"""ClientDocument: example 6 of protocol.md, and N clients converging with one Document."""

from __future__ import annotations

import random
from collections import deque

import pytest

from goval.errors import OTError
from goval.ot import ClientDocument, Document, Outgoing, Packet
from tests.ot.gen import random_op

NOW = 1_700_000_000_000_000_000


def test_example_6_bob_applies_alices_insert_and_recognises_his_echo() -> None:
    server = Document.new()
    server.commit_text("abc", NOW)
    alice, bob = ClientDocument("abc", 1), ClientDocument("abc", 1)
    to_send_a = alice.local_edit(["X"])
    to_send_b = bob.local_edit(["Y"])
    assert to_send_a == Outgoing(1, ["X"]) and to_send_b == Outgoing(1, ["Y"])
    v2 = server.receive(to_send_a.base, to_send_a.ops, 0, NOW)
    v3 = server.receive(to_send_b.base, to_send_b.ops, 0, NOW)
    assert v3.ops == (1, "Y")

    got = bob.server_packet(2, v2.ops, v2.crc32)
    assert got.apply == ["X"] and got.send is None
    assert bob.text == "XYabc" and bob.inflight == [1, "Y"]
    echo = bob.server_packet(3, v3.ops, v3.crc32)
    assert echo.apply == [] and bob.inflight is None
    assert (bob.version, bob.text, bob.crc32()) == (3, "XYabc", 2988551151)

    assert alice.server_packet(2, v2.ops, v2.crc32).apply == []
    assert alice.server_packet(3, v3.ops, v3.crc32).apply == [1, "Y"]
    assert (alice.version, alice.text, alice.crc32()) == (3, "XYabc", 2988551151)


def test_edits_made_while_one_is_in_flight_are_buffered_then_sent_composed() -> None:
    client = ClientDocument("abc", 1)
    first = client.local_edit([3, "d"])
    assert client.local_edit([4, "e"]) is None
    assert client.local_edit(["_"]) is None
    assert client.text == "_abcde"
    assert first is not None
    released = client.server_packet(2, first.ops)
    assert released.send == Outgoing(2, ["_", 4, "e"])  # both buffered edits, on "abcd"


def test_a_gap_in_versions_and_a_crc_mismatch_are_refused() -> None:
    client = ClientDocument("abc", 1)
    with pytest.raises(OTError, match="unexpected version 3"):
        client.server_packet(3, ["x"])
    with pytest.raises(OTError, match="crc32 mismatch at version 2"):
        client.server_packet(2, ["x"], crc32=123)


class _Simulation:
    """One server Document and N clients over FIFO links delivered in random order."""

    def __init__(self, rng: random.Random, clients: int, text: str) -> None:
        self.rng = rng
        self.server = Document.new()
        self.server.commit_text(text, NOW)
        self.clients = [ClientDocument(text, 1) for _ in range(clients)]
        self.up: list[deque[Outgoing]] = [deque() for _ in range(clients)]
        self.down: list[deque[Packet]] = [deque() for _ in range(clients)]

    def step(self) -> None:
        i = self.rng.randrange(len(self.clients))
        choice = self.rng.random()
        if choice < 0.4:
            client = self.clients[i]
            outgoing = client.local_edit(random_op(self.rng, len(client)))
            if outgoing is not None:
                self.up[i].append(outgoing)
        elif choice < 0.7 and self.up[i]:
            self._deliver_up(i)
        elif self.down[i]:
            self._deliver_down(i)

    def _deliver_up(self, i: int) -> None:
        sent = self.up[i].popleft()
        packet = self.server.receive(sent.base, sent.ops, i, NOW)
        for queue in self.down:
            queue.append(packet)

    def _deliver_down(self, i: int) -> None:
        packet = self.down[i].popleft()
        got = self.clients[i].server_packet(packet.version, packet.ops, packet.crc32)
        if got.send is not None:
            self.up[i].append(got.send)

    def drain(self) -> None:
        while any(self.up) or any(self.down):
            for i in range(len(self.clients)):
                if self.up[i]:
                    self._deliver_up(i)
                if self.down[i]:
                    self._deliver_down(i)


@pytest.mark.parametrize("seed", range(8))
def test_random_concurrent_edits_from_n_clients_converge(seed: int) -> None:
    rng = random.Random(seed)
    sim = _Simulation(rng, clients=2 + seed % 4, text="hello 😀 world\n")
    for _ in range(400):
        sim.step()
    sim.drain()
    expected = (sim.server.version, str(sim.server.text), sim.server.text.crc32())
    for client in sim.clients:
        assert client.inflight is None and client.buffer is None
        assert (client.version, client.text, client.crc32()) == expected
    assert sim.server.version > 20
