// The njs way to do what signalr_negotiate does: an HS256 token signed with
// the AccessKey, answered as {"url","accessToken"}. Used by util/bench.sh.
var crypto = require('crypto');

var KEY = 'Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=';
var URL = 'https://contoso.service.signalr.net/client/?hub=chat';

function b64url(s) {
    return Buffer.from(s).toString('base64url');
}

function negotiate(r) {
    var now = Math.floor(Date.now() / 1000);
    var payload = {'asrs.s.uid': r.args.user, nbf: now, exp: now + 3600,
                   iat: now, aud: URL};
    var data = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.'
               + b64url(JSON.stringify(payload));
    var sig = crypto.createHmac('sha256', KEY).update(data).digest('base64url');

    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify({url: URL, accessToken: data + '.' + sig}));
}

export default {negotiate};
