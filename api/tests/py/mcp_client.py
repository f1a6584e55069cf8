"""The official MCP Python SDK (package `mcp`) against zhiban's /mcp (streamable HTTP).

Usage: python3 mcp_client.py URL API_KEY SESSION_A SESSION_B
Lists the tools, calls two of them in session A, then replays a token of session A in
session B, which must be refused. Prints one JSON line; exits non-zero on a failed check.
"""
import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

URL, KEY, SID_A, SID_B = sys.argv[1:5]
ID = "310104199203142629"


async def call(session_id, name, args):
    headers = {"Authorization": f"Bearer {KEY}", "X-Session-Id": session_id}
    async with streamablehttp_client(URL, headers=headers) as (read, write, _):
        async with ClientSession(read, write) as s:
            await s.initialize()
            listed = (await s.list_tools()).tools if name is None else None
            result = await s.call_tool(name, args) if name else None
            return listed, result


async def main():
    tools, _ = await call(SID_A, None, None)
    by_name = {t.name: t for t in tools}
    assert "applicant_verify" in by_name and "road_search" in by_name, list(by_name)
    assert by_name["applicant_verify"].inputSchema["type"] == "object"
    assert by_name["applicant_verify"].outputSchema is not None

    _, roads = await call(SID_A, "road_search", {"query": "长"})
    assert not roads.isError, roads
    assert roads.structuredContent["total"] >= 1, roads.structuredContent

    _, who = await call(SID_A, "applicant_verify", {"name": "陈晓雯", "id_number": ID})
    assert not who.isError, who
    found = who.structuredContent
    assert found["found"] is True, found
    text = json.dumps(found, ensure_ascii=False)
    assert ID not in text and "陈晓雯" not in text, text
    token = found["id_number"]

    # A token of session A does not open in session B.
    _, replay = await call(SID_B, "applicant_verify", {"name": found["name"], "id_number": token})
    assert replay.isError, replay
    message = replay.content[0].text
    assert "invalid_token" in message, message

    print(json.dumps({"tools": len(by_name), "roads": roads.structuredContent["total"]}))


asyncio.run(main())
