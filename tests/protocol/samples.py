"""Representative wire payloads for every protocol model and tagged union, as a front-end would see them."""

from __future__ import annotations

from typing import Any

THREAD_ID = "019a0000-0000-7000-8000-000000000001"
TURN_ID = "019a0000-0000-7000-8000-000000000002"

USER_MESSAGE = {
    "type": "userMessage",
    "id": "item-1",
    "content": [
        {"type": "text", "text": "hello @docs", "text_elements": [{"byteRange": {"start": 6, "end": 11}}]},
        {"type": "image", "url": "https://example.test/cat.png", "detail": "low"},
        {"type": "localImage", "path": "/tmp/cat.png"},
        {"type": "audio", "fileId": "file-1"},
        {"type": "localAudio", "path": "/tmp/a.wav"},
        {"type": "skill", "name": "review", "path": "/skills/review"},
        {"type": "mention", "name": "docs", "path": "app://docs"},
    ],
    "startedAtMs": 1_700_000_000_000,
    "completedAtMs": 1_700_000_000_001,
}

AGENT_MESSAGE = {"type": "agentMessage", "id": "item-2", "text": "Hi."}

MCP_TOOL_CALL = {
    "type": "mcpToolCall",
    "id": "call-1",
    "server": "docs",
    "tool": "search",
    "status": "completed",
    "arguments": {"query": "anyio"},
    "appContext": {"connectorId": "connector_1", "linkId": None, "resourceUri": "ui://widget"},
    "pluginId": "docs@market",
    "result": {
        "content": [{"type": "text", "text": "found"}],
        "structuredContent": {"hits": 1},
        "_meta": {"trace": "t1"},
    },
    "error": None,
    "durationMs": 12,
    "startedAtMs": 1_700_000_000_000,
    "completedAtMs": 1_700_000_000_012,
}

MODERATED_AGENT_MESSAGE = {
    "type": "agentMessage",
    "id": "item-3",
    "text": "Which one?",
    "phase": "final_answer",
    "moderation": {
        "moderated": True,
        "display": {"action": "collapse", "blockType": None, "cyberTrustedAccess": False},
    },
    "memoryCitation": {
        "entries": [{"path": "/m/notes.md", "lineStart": 1, "lineEnd": 3, "note": "earlier answer"}],
        "threadIds": [THREAD_ID],
    },
    "delivery": "async",
    "questions": [{"title": "Pick a branch", "options": ["main", "dev"]}],
}

APP_TOOL_CALL = {
    "type": "mcpToolCall",
    "id": "call-3",
    "server": "codex_apps",
    "tool": "lookup",
    "status": "inProgress",
    "arguments": {},
    "appContext": {"connectorId": "calendar", "appName": "Calendar", "actionName": "lookup"},
    "mcpAppResourceUri": "ui://widget/lookup.html",
    "mcpAppUi": {"resourceUri": "ui://widget/lookup.html", "preferredModelDisplayMode": "inline"},
    "readOnlyHint": True,
}

FAILED_MCP_TOOL_CALL = {
    "type": "mcpToolCall",
    "id": "call-2",
    "server": "docs",
    "tool": "search",
    "status": "failed",
    "arguments": None,
    "result": None,
    "error": {"message": "MCP server `docs` is not running"},
}

TOOL_SEARCH_CALL = {
    "type": "dynamicToolCall",
    "id": "call-4",
    "namespace": None,
    "tool": "tool_search",
    "arguments": {"query": "weather"},
    "status": "completed",
    "contentItems": [
        {"type": "inputText", "text": "Tools found: ..."},
        {"type": "inputImage", "imageUrl": "data:image/png;base64,AAAA"},
        {"type": "inputAudio", "audioUrl": "data:audio/wav;base64,AAAA"},
    ],
    "success": True,
    "durationMs": 0,
}

TURN = {
    "id": TURN_ID,
    "items": [USER_MESSAGE, AGENT_MESSAGE, MCP_TOOL_CALL],
    "status": "failed",
    "itemsView": "full",
    "error": {
        "message": "usage limit",
        "additionalDetails": None,
        "codexErrorInfo": {"httpConnectionFailed": {"httpStatusCode": 502}},
        "misalignment": {"steer": {"message": "try again"}, "errorType": "policy"},
    },
    "startedAt": 1_700_000_000,
    "completedAt": 1_700_000_010,
    "durationMs": 10_000,
    "rootTurnId": TURN_ID,
}

THREAD = {
    "id": THREAD_ID,
    "sessionId": THREAD_ID,
    "cliVersion": "0.1.0",
    "createdAt": 1_700_000_000,
    "updatedAt": 1_700_000_100,
    "cwd": "/home/user/project",
    "ephemeral": False,
    "modelProvider": "openai",
    "preview": "hello",
    "source": "appServer",
    "status": {"type": "active", "activeFlags": ["waitingOnUserInput"]},
    "turns": [TURN],
    "projectId": None,
    "gitInfo": {"branch": "main", "originUrl": None, "sha": "abc123"},
    "historyMode": "legacy",
    "model": "gpt-5",
    "name": "First thread",
    "section": {"id": "sec-1", "name": "Work", "appearance": {"color": "blue", "icon": None}},
}

SANDBOX_POLICIES: list[dict[str, Any]] = [
    {"type": "dangerFullAccess"},
    {"type": "readOnly", "networkAccess": True},
    {"type": "externalSandbox", "networkAccess": "enabled"},
    {
        "type": "workspaceWrite",
        "excludeSlashTmp": False,
        "excludeTmpdirEnvVar": True,
        "networkAccess": False,
        "writableRoots": ["/home/user/project"],
    },
]

SESSION_STATE = {
    "thread": THREAD,
    "approvalPolicy": {
        "granular": {
            "sandbox_approval": True,
            "rules": False,
            "skill_approval": False,
            "request_permissions": True,
            "mcp_elicitations": True,
        }
    },
    "approvalsReviewer": "user",
    "cwd": "/home/user/project",
    "model": "gpt-5",
    "modelProvider": "openai",
    "sandbox": SANDBOX_POLICIES[3],
    "disabledPluginIds": ["noisy@market"],
    "reasoningEffort": "medium",
    "serviceTier": None,
}

TOOL = {
    "name": "search",
    "inputSchema": {"type": "object", "properties": {"query": {"type": "string"}}},
    "title": "Search",
    "annotations": {"readOnlyHint": True},
    "_meta": {"openai/outputTemplate": "ui://widget"},
}

APP = {
    "id": "connector_1",
    "name": "Docs",
    "description": "Company docs",
    "appMetadata": {
        "categories": ["work"],
        "review": {"status": "approved"},
        "screenshots": [{"userPrompt": "x"}],
    },
    "branding": {"isDiscoverableApp": True, "website": "https://example.test"},
    "iconAssets": {"64": "https://example.test/64.png"},
    "isAccessible": True,
    "isEnabled": False,
    "pluginDisplayNames": ["Docs plugin"],
}

VIEW_ENTRY = {
    "name": "docs",
    "transport": "streamable_http",
    "enabled": True,
    "config": {"url": "https://docs.example.test/mcp", "http_headers": {"Authorization": "<redacted>"}},
    "provenance": {"source": "config", "file": "config.toml", "key": "mcp_servers.docs"},
}

# (type name as it is written in the reference or our module, wire payload)
MODEL = {
    "id": "gpt-5-codex",
    "model": "gpt-5-codex",
    "upgrade": None,
    "upgradeInfo": None,
    "availabilityNux": None,
    "displayName": "GPT-5-Codex",
    "description": "GPT-5 tuned for agentic coding.",
    "modelSpecialty": None,
    "hidden": False,
    "supportedReasoningEfforts": [{"reasoningEffort": "low", "description": "Fast"}],
    "defaultReasoningEffort": "low",
    "inputModalities": ["text", "image"],
    "supportsPersonality": False,
    "multiAgentVersion": None,
    "additionalSpeedTiers": [],
    "serviceTiers": [],
    "defaultServiceTier": None,
    "availableAccessPrograms": None,
    "isDefault": True,
}

PROVIDER = {"id": "gw", "name": "Gateway", "canEdit": True, "baseUrl": "https://gw.example/v1"}

CONFIG_KEYS = [
    *("model", "review_model", "model_context_window", "model_auto_compact_token_limit"),
    *("model_auto_compact_token_limit_scope", "model_provider", "approval_policy", "approvals_reviewer"),
    *("sandbox_mode", "sandbox_workspace_write", "forced_chatgpt_workspace_id", "forced_login_method"),
    *("web_search", "client_search_provider", "tools", "instructions", "developer_instructions"),
    *("compact_prompt", "model_reasoning_effort", "model_reasoning_summary", "model_verbosity"),
    *("service_tier", "analytics", "browser_use", "computer_use", "desktop"),
]
"""The keys Codex's `Config` names (always written, null when unset)."""

USER_LAYER = {
    "name": {"type": "user", "file": "/home/me/.app-server/config.toml", "profile": None},
    "version": "sha256:ab",
}
SESSION_FLAGS_LAYER = {"name": {"type": "sessionFlags"}, "version": "sha256:cd"}

SAMPLES: list[tuple[str, dict[str, Any]]] = [
    # initialize
    ("InitializeParams", {"clientInfo": {"name": "vscode", "title": "VS Code", "version": "1.0.0"}}),
    (
        "InitializeParams",
        {
            "clientInfo": {"name": "vscode", "version": "1.0.0"},
            "capabilities": {"experimentalApi": True, "optOutNotificationMethods": ["thread/started"]},
        },
    ),
    (
        "InitializeResponse",
        {
            "userAgent": "app-server/0.1.0",
            "codexHome": "/home/u/.app-server",
            "platformFamily": "unix",
            "platformOs": "linux",
        },
    ),
    # threads
    ("ThreadStartParams", {}),
    (
        "ThreadStartParams",
        {
            "approvalPolicy": "on-request",
            "cwd": "/p",
            "model": "gpt-5",
            "sandbox": "workspace-write",
            "config": {"mcp_servers.docs.enabled": False},
            "sessionStartSource": "startup",
            "ephemeral": True,
        },
    ),
    ("ThreadStartResponse", SESSION_STATE),
    ("ThreadResumeParams", {"threadId": THREAD_ID, "excludeTurns": True, "personality": "none"}),
    (
        "ThreadResumeResponse",
        {
            **SESSION_STATE,
            "collaborationMode": {
                "mode": "plan",
                "settings": {"model": "gpt-5", "developer_instructions": None, "reasoning_effort": "high"},
            },
            "turnsBackwardsCursor": "c1",
        },
    ),
    ("ThreadReadParams", {"threadId": THREAD_ID, "includeTurns": True}),
    ("ThreadReadResponse", {"thread": THREAD}),
    ("ThreadUnarchiveResponse", {"thread": THREAD}),
    ("ThreadForkResponse", SESSION_STATE),
    ("ThreadListParams", {}),
    (
        "ThreadListParams",
        {
            "cursor": "c1",
            "limit": 10,
            "cwd": ["/a", "/b"],
            "sortKey": "updated_at",
            "sortDirection": "asc",
            "sourceKinds": ["appServer", "vscode"],
            "sectionId": None,
            "useStateDbOnly": False,
        },
    ),
    ("ThreadListResponse", {"data": [THREAD], "nextCursor": None, "backwardsCursor": "b1"}),
    ("Thread", {**THREAD, "source": {"custom": "my-ide"}, "status": {"type": "idle"}}),
    ("Thread", {**THREAD, "source": {"subAgent": "review"}, "status": {"type": "notLoaded"}}),
    (
        "Thread",
        {
            **THREAD,
            "source": {
                "subAgent": {
                    "thread_spawn": {
                        "parent_thread_id": THREAD_ID,
                        "depth": 1,
                        "agent_path": None,
                        "agent_nickname": "scout",
                        "agent_role": None,
                    }
                }
            },
            "status": {"type": "systemError"},
        },
    ),
    # turns
    (
        "TurnStartParams",
        {
            "threadId": THREAD_ID,
            "input": [{"type": "text", "text": "hi", "text_elements": []}],
            "sandboxPolicy": SANDBOX_POLICIES[1],
            "outputSchema": {"type": "object"},
            "effort": "low",
            "summary": "concise",
            "disabledPluginIds": [],
            "toolOutput": {"name": "shell", "output": [{"type": "input_text", "text": "ok"}], "retain": True},
        },
    ),
    ("TurnStartParams", {"threadId": THREAD_ID, "input": [], "toolOutput": {"name": "t", "output": "plain"}}),
    ("TurnStartResponse", {"turn": {**TURN, "status": "inProgress", "items": [], "error": None}}),
    ("ThreadTurnsListResponse", {"data": [TURN], "nextCursor": None, "backwardsCursor": "c0"}),
    ("TurnInterruptParams", {"threadId": THREAD_ID, "turnId": TURN_ID}),
    ("TurnInterruptResponse", {}),
    (
        "TurnSteerParams",
        {
            "threadId": THREAD_ID,
            "input": [{"type": "text", "text": "also this", "text_elements": []}],
            "expectedTurnId": TURN_ID,
            "clientUserMessageId": "m-2",
        },
    ),
    ("TurnSteerResponse", {"turnId": TURN_ID}),
    ("ThreadLoadedListParams", {"cursor": "c1", "limit": 2}),
    ("ThreadLoadedListResponse", {"data": [THREAD_ID], "nextCursor": None}),
    ("ThreadSetNameParams", {"threadId": THREAD_ID, "name": "Refactor"}),
    ("ThreadSetNameResponse", {}),
    ("ThreadArchiveParams", {"threadId": THREAD_ID}),
    ("ThreadArchiveResponse", {}),
    ("ThreadUnarchiveParams", {"threadId": THREAD_ID}),
    ("ThreadUnsubscribeParams", {"threadId": THREAD_ID}),
    ("ThreadUnsubscribeResponse", {"status": "unsubscribed"}),
    ("ThreadDeleteParams", {"threadId": THREAD_ID}),
    ("ThreadDeleteResponse", {}),
    (
        "ThreadTurnsListParams",
        {"threadId": THREAD_ID, "cursor": "c1", "limit": 5, "sortDirection": "asc", "itemsView": "summary"},
    ),
    (
        "ThreadItemsListParams",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "cursor": {"type": "item", "itemId": "item-1"},
            "limit": 5,
            "sortDirection": "desc",
            "deferOutput": {},
        },
    ),
    ("ThreadItemsListParams", {"threadId": THREAD_ID, "cursor": "c1"}),
    (
        "ThreadItemsListResponse",
        {
            "data": [{"turnId": TURN_ID, "item": AGENT_MESSAGE, "startedAtMs": 1, "completedAtMs": None}],
            "nextCursor": "c2",
            "backwardsCursor": "c0",
        },
    ),
    (
        "ThreadForkParams",
        {"threadId": THREAD_ID, "lastTurnId": TURN_ID, "ephemeral": True, "excludeTurns": True},
    ),
    ("ThreadNameUpdatedNotification", {"threadId": THREAD_ID, "threadName": "Refactor"}),
    ("ThreadNameUpdatedNotification", {"threadId": THREAD_ID}),
    ("ThreadArchivedNotification", {"threadId": THREAD_ID}),
    (
        "McpServerToolCallProgressNotification",
        {
            "requestId": 7,
            "server": "s",
            "tool": "t",
            "threadId": THREAD_ID,
            "progress": 1.0,
            "total": None,
            "message": None,
        },
    ),
    (
        "McpServerToolCallProgressNotification",
        {"requestId": "r", "server": "s", "tool": "t", "progress": 0.5},
    ),
    ("ThreadUnarchivedNotification", {"threadId": THREAD_ID}),
    ("ThreadClosedNotification", {"threadId": THREAD_ID}),
    ("ThreadDeletedNotification", {"threadId": THREAD_ID}),
    ("ThreadItem", USER_MESSAGE),
    ("ThreadItem", AGENT_MESSAGE),
    ("ThreadItem", MCP_TOOL_CALL),
    ("ThreadItem", FAILED_MCP_TOOL_CALL),
    ("ThreadItem", MODERATED_AGENT_MESSAGE),
    ("ThreadItem", APP_TOOL_CALL),
    ("ThreadItem", TOOL_SEARCH_CALL),
    ("ThreadItem", {**USER_MESSAGE, "clientId": "client-msg-1"}),
    *[("SandboxPolicy", policy) for policy in SANDBOX_POLICIES],
    # config writes
    (
        "ConfigValueWriteParams",
        {
            "keyPath": 'mcp_servers."docs".command',
            "value": "python",
            "mergeStrategy": "replace",
            "filePath": "/home/u/.app-server/config.toml",
            "expectedVersion": "sha256:00",
        },
    ),
    ("ConfigValueWriteParams", {"keyPath": "model", "value": None, "mergeStrategy": "upsert"}),
    (
        "ConfigBatchWriteParams",
        {
            "edits": [{"keyPath": "features", "value": {"apps": False}, "mergeStrategy": "upsert"}],
            "reloadUserConfig": True,
        },
    ),
    (
        "ConfigWriteResponse",
        {
            "status": "okOverridden",
            "version": "sha256:01",
            "filePath": "/home/u/.app-server/config.toml",
            "overriddenMetadata": {
                "message": "Overridden by session flags (-c model)",
                "overridingLayer": {"name": {"type": "sessionFlags"}, "version": "sha256:02"},
                "effectiveValue": "gpt-5",
            },
        },
    ),
    # mcp
    (
        "ListMcpServerStatusParams",
        {"threadId": THREAD_ID, "detail": "toolsAndAuthOnly", "serverName": "docs"},
    ),
    (
        "ListMcpServerStatusResponse",
        {
            "data": [
                {
                    "name": "docs",
                    "authStatus": "oAuth",
                    "tools": {"search": TOOL},
                    "resources": [
                        {
                            "name": "readme",
                            "uri": "file:///readme.md",
                            "mimeType": "text/markdown",
                            "size": 12,
                            "_meta": {"k": 1},
                        }
                    ],
                    "resourceTemplates": [
                        {"name": "page", "uriTemplate": "docs://{page}", "annotations": {}}
                    ],
                    "httpOrigin": "https://docs.example.test",
                    "runtimeStatus": "connected",
                    "serverCapabilities": {"tools": {"listChanged": True}},
                    "serverInfo": {"name": "docs", "version": "1.0", "websiteUrl": None},
                    "toolsError": None,
                    "process": {
                        "server": "docs",
                        "connectionId": "docs-3",
                        "pid": 4242,
                        "isolation": "thread",
                        "appLevel": False,
                        "threadIds": [THREAD_ID],
                    },
                }
            ],
            "nextCursor": "2",
        },
    ),
    ("McpServerRefreshResponse", {}),
    (
        "McpResourceReadParams",
        {
            "server": "docs",
            "uri": "file:///readme.md",
            "_meta": {"progressToken": 1},
            "target": {"connectorId": "connector_1", "linkId": None},
        },
    ),
    (
        "McpResourceReadResponse",
        {
            "contents": [
                {"uri": "file:///a", "text": "hi", "mimeType": "text/plain"},
                {"uri": "file:///b", "blob": "aGk=", "_meta": {"k": 1}},
            ],
            "originCallId": None,
        },
    ),
    ("McpServerToolCallParams", {"server": "docs", "tool": "search", "arguments": {"query": "x"}}),
    (
        "McpServerToolCallParams",
        {"threadId": THREAD_ID, "server": "docs", "tool": "search", "_meta": {"a": 1}},
    ),
    (
        "McpServerToolCallResponse",
        {"content": [{"type": "text", "text": "ok"}], "isError": False, "structuredContent": {"ok": True}},
    ),
    (
        "McpServerOauthLoginParams",
        {"name": "docs", "scopes": ["read"], "timeoutSecs": 60, "clientRegistration": "dcr"},
    ),
    (
        "McpServerOauthLoginResponse",
        {"authorizationUrl": "https://auth.example.test/authorize", "loginId": "l1"},
    ),
    ("McpServerViewsReadParams", {}),
    (
        "McpServerViewsReadResponse",
        {
            "configured": [VIEW_ENTRY],
            "runtime": [
                {**VIEW_ENTRY, "provenance": {"source": "plugin", "pluginId": "docs@market"}},
                {
                    "name": "codex_apps",
                    "transport": "streamable_http",
                    "enabled": True,
                    "config": {},
                    "provenance": {"source": "contributor", "contributor": "apps"},
                },
            ],
            "effective": [
                {
                    "name": "codex_apps",
                    "transport": "streamable_http",
                    "enabled": True,
                    "config": {},
                    "provenance": {"source": "builtin", "gating": "apps feature on and ChatGPT auth"},
                },
                {
                    "name": "local",
                    "transport": "stdio",
                    "enabled": False,
                    "config": {"command": "srv"},
                    "provenance": {"source": "config"},
                },
            ],
            "processes": [
                {
                    "server": "docs",
                    "connectionId": "docs-1",
                    "pid": None,
                    "isolation": "shared",
                    "appLevel": True,
                    "threadIds": [THREAD_ID],
                }
            ],
        },
    ),
    # apps
    ("AppsListParams", {"threadId": THREAD_ID, "forceRefetch": True, "limit": 50}),
    ("AppsListResponse", {"data": [APP], "nextCursor": None}),
    # account
    # models
    ("ModelListParams", {}),
    ("ModelListParams", {"modelProvider": "ollama", "cursor": "2", "limit": 2, "includeHidden": True}),
    ("ModelListResponse", {"data": [MODEL], "nextCursor": "1"}),
    (
        "Model",
        {
            **MODEL,
            "upgrade": "gpt-6",
            "upgradeInfo": {
                "model": "gpt-6",
                "upgradeCopy": "Try GPT-6",
                "modelLink": None,
                "migrationMarkdown": None,
                "retirementAt": 1790000000,
            },
            "availabilityNux": {"message": "New"},
            "multiAgentVersion": "v2",
            "serviceTiers": [{"id": "fast", "name": "Fast", "description": "Lower latency"}],
            "defaultServiceTier": "fast",
            "availableAccessPrograms": {"cyber": ["standard"]},
        },
    ),
    ("ModelProviderListParams", {}),
    (
        "ModelProviderListResponse",
        {
            "data": [
                {
                    "id": "openai",
                    "name": "OpenAI",
                    "canEdit": False,
                    "baseUrl": "https://api.openai.com/v1",
                    "settings": {"type": "openai"},
                },
                {
                    "id": "gw",
                    "name": "Gateway",
                    "canEdit": True,
                    "baseUrl": None,
                    "settings": {
                        "type": "customGateway",
                        "auth": {"mode": "none"},
                    },
                },
            ],
            "defaultProviderId": "openai",
            "canChangeDefault": True,
        },
    ),
    (
        "ModelProviderSummary",
        {
            **PROVIDER,
            "settings": {"type": "customGateway", "auth": {"mode": "environmentVariable", "envKey": "K"}},
        },
    ),
    (
        "ModelProviderSummary",
        {
            **PROVIDER,
            "settings": {"type": "customGateway", "auth": {"mode": "externallyConfigured", "envKey": None}},
        },
    ),
    ("ModelProviderSummary", {**PROVIDER, "settings": {"type": "bedrock", "profile": "p", "region": None}}),
    (
        "ModelProviderSummary",
        {**PROVIDER, "settings": {"type": "gcp", "projectId": "p", "location": None, "credentialFile": None}},
    ),
    # config
    ("ConfigReadParams", {}),
    ("ConfigReadParams", {"includeLayers": True, "cwd": "/work/project"}),
    (
        "ConfigReadResponse",
        {
            "config": {
                **dict.fromkeys(CONFIG_KEYS),
                "model": "gpt-5",
                "approval_policy": "never",
                "mcp_servers": {"docs": {"command": "docs-mcp", "args": ["--port", 1]}},
            },
            "origins": {
                "model": SESSION_FLAGS_LAYER,
                "approval_policy": USER_LAYER,
                "mcp_servers.docs.command": USER_LAYER,
                "mcp_servers.docs.args.0": USER_LAYER,
            },
            "layers": [
                {**SESSION_FLAGS_LAYER, "config": {"model": "gpt-5"}, "disabledReason": None},
                {**USER_LAYER, "config": {"approval_policy": "never"}, "disabledReason": None},
            ],
        },
    ),
    ("ConfigReadResponse", {"config": dict.fromkeys(CONFIG_KEYS), "origins": {}, "layers": None}),
    ("ConfigRequirementsReadResponse", {"supportsIndependentSpeedModes": None, "requirements": None}),
    ("GetAccountParams", {"refreshToken": True}),
    ("GetAccountResponse", {"account": {"type": "apiKey"}, "requiresOpenaiAuth": True, "userId": None}),
    (
        "GetAccountResponse",
        {
            "account": {
                "type": "chatgpt",
                "email": "a@example.test",
                "planType": "plus",
                "workspaceName": None,
            },
            "requiresOpenaiAuth": True,
        },
    ),
    ("Account", {"type": "amazonBedrock", "usesCodexManagedCredentials": True}),
    ("Account", {"type": "gcp"}),
    ("LoginAccountParams", {"type": "apiKey", "apiKey": "sk-test"}),
    (
        "LoginAccountParams",
        {
            "type": "chatgpt",
            "appBrand": None,
            "codexStreamlinedLogin": False,
            "useHostedLoginSuccessPage": True,
        },
    ),
    ("LoginAccountParams", {"type": "chatgptDeviceCode"}),
    (
        "LoginAccountParams",
        {
            "type": "chatgptAuthTokens",
            "accessToken": "tok",
            "chatgptAccountId": "acc",
            "chatgptPlanType": None,
        },
    ),
    ("LoginAccountParams", {"type": "amazonBedrock", "apiKey": "k", "region": "us-east-1"}),
    (
        "LoginAccountParams",
        {
            "type": "amazonBedrockAccessKeys",
            "accessKeyId": "AK",
            "region": "eu-west-1",
            "secretAccessKey": "s",
            "sessionToken": None,
        },
    ),
    ("LoginAccountResponse", {"type": "apiKey"}),
    ("LoginAccountResponse", {"type": "chatgpt", "authUrl": "https://auth.example.test", "loginId": "l1"}),
    (
        "LoginAccountResponse",
        {
            "type": "chatgptDeviceCode",
            "loginId": "l2",
            "userCode": "ABCD",
            "verificationUrl": "https://v.test",
        },
    ),
    ("LoginAccountResponse", {"type": "chatgptAuthTokens"}),
    ("LoginAccountResponse", {"type": "amazonBedrock"}),
    ("LogoutAccountResponse", {}),
    # notifications
    (
        "ErrorNotification",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "willRetry": True,
            "error": {"message": "overloaded", "codexErrorInfo": "serverOverloaded"},
        },
    ),
    ("ThreadStartedNotification", {"thread": {**THREAD, "turns": []}}),
    (
        "ThreadStatusChangedNotification",
        {"threadId": THREAD_ID, "status": {"type": "active", "activeFlags": ["waitingOnApproval"]}},
    ),
    ("ThreadStatusChangedNotification", {"threadId": THREAD_ID, "status": {"type": "systemError"}}),
    (
        "ThreadTokenUsageUpdatedNotification",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "tokenUsage": {
                "total": {
                    "totalTokens": 30,
                    "inputTokens": 20,
                    "cachedInputTokens": 4,
                    "cacheWriteInputTokens": 0,
                    "outputTokens": 10,
                    "reasoningOutputTokens": 2,
                },
                "last": {
                    "totalTokens": 15,
                    "inputTokens": 10,
                    "cachedInputTokens": 2,
                    "cacheWriteInputTokens": 0,
                    "outputTokens": 5,
                    "reasoningOutputTokens": 1,
                },
                "modelContextWindow": None,
            },
        },
    ),
    (
        "TurnStartedNotification",
        {
            "threadId": THREAD_ID,
            "turn": {"id": TURN_ID, "items": [], "itemsView": "notLoaded", "status": "inProgress"},
        },
    ),
    ("TurnCompletedNotification", {"threadId": THREAD_ID, "turn": TURN}),
    (
        "ItemStartedNotification",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "item": {**MCP_TOOL_CALL, "status": "inProgress"},
            "startedAtMs": 1,
        },
    ),
    (
        "ItemCompletedNotification",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "item": AGENT_MESSAGE,
            "completedAtMs": 2,
            "contentTokenCount": 3,
        },
    ),
    (
        "AgentMessageDeltaNotification",
        {"threadId": THREAD_ID, "turnId": TURN_ID, "itemId": "item-2", "delta": "Hi"},
    ),
    (
        "McpToolCallProgressNotification",
        {"threadId": THREAD_ID, "turnId": TURN_ID, "itemId": "call-1", "message": "50%"},
    ),
    ("McpServerStatusUpdatedNotification", {"name": "docs", "status": "starting", "threadId": None}),
    (
        "McpServerStatusUpdatedNotification",
        {
            "name": "docs",
            "status": "failed",
            "error": "MCP client for `docs` timed out after 30 seconds",
            "failureReason": "reauthenticationRequired",
        },
    ),
    (
        "McpServerOauthLoginCompletedNotification",
        {"name": "docs", "success": False, "loginId": "l1", "error": "login timed out"},
    ),
    ("AppListUpdatedNotification", {"data": [APP]}),
    (
        "AccountLoginCompletedNotification",
        {"loginId": None, "success": True, "error": None, "onboardingEntrypoint": None},
    ),
    ("AccountUpdatedNotification", {"authMode": "chatgpt", "planType": "pro"}),
    ("AccountUpdatedNotification", {"authMode": None, "planType": None}),
    ("ServerRequestResolvedNotification", {"threadId": THREAD_ID, "requestId": 7}),
    ("ServerRequestResolvedNotification", {"threadId": THREAD_ID, "requestId": "srv-7"}),
    (
        "ConfigWarningNotification",
        {
            "summary": "unknown key",
            "details": None,
            "path": "config.toml",
            "range": {"start": {"line": 3, "column": 1}, "end": {"line": 3, "column": 9}},
        },
    ),
    ("WarningNotification", {"message": "server `x` disabled", "threadId": THREAD_ID}),
    # server requests
    (
        "McpServerElicitationRequestParams",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "serverName": "docs",
            "mode": "form",
            "message": "Confirm?",
            "_meta": None,
            "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        },
    ),
    (
        "McpServerElicitationRequestParams",
        {
            "threadId": THREAD_ID,
            "serverName": "docs",
            "mode": "url",
            "message": "Sign in",
            "_meta": {"k": 1},
            "url": "https://auth.example.test",
            "elicitationId": "e1",
        },
    ),
    ("McpServerElicitationRequestResponse", {"action": "accept", "content": {"ok": True}, "_meta": None}),
    ("McpServerElicitationRequestResponse", {"action": "cancel", "content": None, "_meta": None}),
    (
        "ToolRequestUserInputParams",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "itemId": "call-1",
            "isBlocking": True,
            "autoResolutionMs": None,
            "questions": [
                {
                    "id": "q1",
                    "header": "Pick",
                    "question": "Which?",
                    "isSecret": False,
                    "options": [{"label": "A", "description": "first"}],
                }
            ],
        },
    ),
    ("ToolRequestUserInputResponse", {"answers": {"q1": {"answers": ["A"]}}}),
]
