-- wrk script: a signed upstream call (connection id and signature from the
-- protocol's test vectors), as Azure SignalR Service sends it.
wrk.method = "POST"
wrk.body = '{"type":1,"target":"broadcast","arguments":["hello"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-ASRS-Hub"] = "chat"
wrk.headers["X-ASRS-Category"] = "messages"
wrk.headers["X-ASRS-Event"] = "broadcast"
wrk.headers["X-ASRS-Connection-Id"] = "0f9c97a2f0bf4706afe87a14e0797b11"
wrk.headers["X-ASRS-Signature"] =
    "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561"
