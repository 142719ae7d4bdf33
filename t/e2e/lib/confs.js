'use strict';
// nginx configurations of the end-to-end tests (the http{} contents).

// A hub "chat" whose methods are routes: each one a signalr_output location
// (templated mode), a loopback proxy to a signalr_output location (action
// JSON mode, for "excluded"), or a plain return.
//
// Methods: broadcast(...args), sendToUser(user, ...args),
// sendToGroup(group, ...args), sendToConnection(connectionId, ...args),
// broadcastExcept(connectionId, ...args), joinGroup(group),
// leaveGroup(group), joinGroupAsUser(group), leaveGroupAsUser(group),
// whoami(), echo(...args), fail(). Recipients get newMessage(...args).
// Users named "mallory" are refused on connect.
function routes(emulatorUrl) {
  return (port) => String.raw`
    signalr_endpoint env:AzureSignalRConnectionString rest=/_signalr/;

    # the first argument when it is a plain name, and the arguments after it
    map $signalr_arguments $first {
        '~^\["(?<first_name>[A-Za-z0-9_.=:-]{1,128})"[,\]]' $first_name;
        default '';
    }
    map $signalr_arguments $rest {
        '~^\["[A-Za-z0-9_.=:-]{1,128}",(?<rest_args>.+)\]$' $rest_args;
        default '';
    }

    server {
        listen 127.0.0.1:${port};

        location = /api/negotiate {
            signalr_negotiate chat;
            signalr_user_id $arg_user;
        }

        location = /runtime/webhooks/signalr {
            signalr_trigger /route/$signalr_hub/$signalr_category/$signalr_event;
        }

        location /_signalr/ {
            internal;
            proxy_pass ${emulatorUrl};
        }

        location = /route/chat/connections/connected {
            internal;
            if ($signalr_user_id = mallory) {
                return 403;
            }
            return 204;
        }

        location = /route/chat/connections/disconnected {
            internal;
            return 204;
        }

        location = /route/chat/messages/broadcast {
            internal;
            signalr_output $signalr_hub;
            signalr_target newMessage;
            signalr_arguments $signalr_arguments;
        }

        location = /route/chat/messages/sendToUser {
            internal;
            signalr_output $signalr_hub;
            signalr_target newMessage;
            signalr_user_id $first;
            signalr_arguments '[$rest]';
        }

        location = /route/chat/messages/sendToGroup {
            internal;
            signalr_output $signalr_hub;
            signalr_target newMessage;
            signalr_group $first;
            signalr_arguments '[$rest]';
        }

        location = /route/chat/messages/sendToConnection {
            internal;
            signalr_output $signalr_hub;
            signalr_target newMessage;
            signalr_connection_id $first;
            signalr_arguments '[$rest]';
        }

        # "excluded" exists only in the action JSON: build it and post it to
        # a signalr_output location that takes action JSON
        location = /route/chat/messages/broadcastExcept {
            internal;
            proxy_method POST;
            proxy_set_header Content-Type application/json;
            proxy_set_body '{"target":"newMessage","arguments":[$rest],"excluded":["$first"]}';
            proxy_pass http://127.0.0.1:${port}/actions/chat;
        }

        location = /actions/chat {
            allow 127.0.0.1;
            deny all;
            signalr_output chat;
        }

        location = /route/chat/messages/joinGroup {
            internal;
            signalr_output $signalr_hub;
            signalr_group_action add;
            signalr_group $first;
            signalr_connection_id $signalr_connection_id;
        }

        location = /route/chat/messages/leaveGroup {
            internal;
            signalr_output $signalr_hub;
            signalr_group_action remove;
            signalr_group $first;
            signalr_connection_id $signalr_connection_id;
        }

        location = /route/chat/messages/joinGroupAsUser {
            internal;
            signalr_output $signalr_hub;
            signalr_group_action add;
            signalr_group $first;
            signalr_user_id $signalr_user_id;
        }

        location = /route/chat/messages/leaveGroupAsUser {
            internal;
            signalr_output $signalr_hub;
            signalr_group_action remove;
            signalr_group $first;
            signalr_user_id $signalr_user_id;
        }

        location = /route/chat/messages/whoami {
            internal;
            default_type application/json;
            return 200 '{"user":"$signalr_user_id","connectionId":"$signalr_connection_id","hub":"$signalr_hub"}';
        }

        location = /route/chat/messages/echo {
            internal;
            default_type application/json;
            return 200 $signalr_arguments;
        }

        location = /route/chat/messages/fail {
            internal;
            return 500;
        }
    }
`;
}

// The actions of docs/output.md that have an answer of their own (exists,
// invoke, listConnections), closeConnections and several recipients: no
// trigger, only negotiate, an output location taking JSON actions and an
// exists location as an access rule.
//
// Clients negotiate at /api (user from ?user=) or, with detailed errors in
// their token (asrs.s.derror), at /detailed. POST actions to /actions/chat.
// GET /app.txt with the header X-User: the file's text while that user has a
// connection (X-Connected: true), 403 otherwise (X-Connected: false).
// options.restReadTimeout: proxy_read_timeout of the REST location.
function actions(emulatorUrl, { restReadTimeout = '60s' } = {}) {
  return (port) => String.raw`
    signalr_endpoint env:AzureSignalRConnectionString rest=/_signalr/;

    server {
        listen 127.0.0.1:${port};
        root html;

        location = /api/negotiate {
            signalr_negotiate chat;
            signalr_user_id $arg_user;
        }

        location = /detailed/negotiate {
            signalr_negotiate chat;
            signalr_user_id $arg_user;
            signalr_negotiate_detailed_errors on;
        }

        location /_signalr/ {
            internal;
            proxy_pass ${emulatorUrl};
            proxy_read_timeout ${restReadTimeout};
        }

        location = /actions/chat {
            allow 127.0.0.1;
            deny all;
            signalr_output chat;
        }

        # only while the user has a connection
        location = /_connected {
            internal;
            signalr_output chat;
            signalr_action exists;
            signalr_user_id $http_x_user;
            signalr_exists_status 403;
        }

        location = /app.txt {
            auth_request /_connected;
            auth_request_set $connected $signalr_exists;
            add_header X-Connected $connected always;
        }
    }
`;
}

// The status page (signalr_status) in front of a hub "chat" with a trigger
// and output routes, for t/e2e/status.test.js.
//
// Clients negotiate at /api (user from ?user=); /byhub/negotiate?hub=...
// negotiates for the hub named by the query (an invalid one is refused:
// "bad_hub"). Hub methods: broadcast(...args), joinGroup(group),
// sendToGroup(group, ...args); recipients get newMessage(...args). Users
// named "mallory" are refused on connect (the route answers 403). POST
// actions to /actions/chat. GET /status: the status page, from 127.0.0.1
// only.
function status(emulatorUrl) {
  return (port) => String.raw`
    signalr_endpoint env:AzureSignalRConnectionString rest=/_signalr/;

    map $signalr_arguments $first {
        '~^\["(?<first_name>[A-Za-z0-9_.=:-]{1,128})"[,\]]' $first_name;
        default '';
    }
    map $signalr_arguments $rest {
        '~^\["[A-Za-z0-9_.=:-]{1,128}",(?<rest_args>.+)\]$' $rest_args;
        default '';
    }

    server {
        listen 127.0.0.1:${port};

        location = /status {
            signalr_status;
            allow 127.0.0.1;
            deny all;
        }

        location = /api/negotiate {
            signalr_negotiate chat;
            signalr_user_id $arg_user;
        }

        location = /byhub/negotiate {
            signalr_negotiate $arg_hub;
        }

        location = /runtime/webhooks/signalr {
            signalr_trigger /route/$signalr_hub/$signalr_category/$signalr_event;
        }

        location /_signalr/ {
            internal;
            proxy_pass ${emulatorUrl};
        }

        location = /actions/chat {
            allow 127.0.0.1;
            deny all;
            signalr_output chat;
        }

        location = /route/chat/connections/connected {
            internal;
            if ($signalr_user_id = mallory) {
                return 403;
            }
            return 204;
        }

        location = /route/chat/connections/disconnected {
            internal;
            return 204;
        }

        location = /route/chat/messages/broadcast {
            internal;
            signalr_output $signalr_hub;
            signalr_target newMessage;
            signalr_arguments $signalr_arguments;
        }

        location = /route/chat/messages/joinGroup {
            internal;
            signalr_output $signalr_hub;
            signalr_group_action add;
            signalr_group $first;
            signalr_connection_id $signalr_connection_id;
        }

        location = /route/chat/messages/sendToGroup {
            internal;
            signalr_output $signalr_hub;
            signalr_target newMessage;
            signalr_group $first;
            signalr_arguments '[$rest]';
        }
    }
`;
}

module.exports = { routes, actions, status };
