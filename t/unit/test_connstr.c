/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Connection string rules (ConnectionStringParser.cs of Azure/azure-signalr)
 * and the URLs derived.
 */

#include "unit.h"
#include "signalr_connstr.h"


static signalr_connstr_t  cs;
static char               err[512];


static int
parse(const char *s)
{
    signalr_connstr_free(&cs);
    err[0] = '\0';
    return signalr_connstr_parse(s, strlen(s), &cs, err, sizeof(err));
}


static void
check_urls(const char *s, const char *client, const char *server,
    const char *aud)
{
    CHECK_INT(parse(s), 0);
    CHECK_STR(cs.client_base, client);
    CHECK_STR(cs.server_base, server);
    CHECK_STR(cs.audience_base, aud);
}


static void
check_error(const char *s, const char *msg)
{
    CHECK_INT(parse(s), -1);
    if (strstr(err, msg) == NULL) {
        UNIT_FAIL("\"%s\": error \"%s\" lacks \"%s\"", s, err, msg);
    }
    if (strstr(err, "SECRETKEY") != NULL) {
        UNIT_FAIL("\"%s\": error \"%s\" shows the key", s, err);
    }
}


static void
test_worked_examples(void)
{
    check_urls("Endpoint=https://contoso.service.signalr.net;AccessKey=K;"
               "Version=1.0;",
               "https://contoso.service.signalr.net/",
               "https://contoso.service.signalr.net/",
               "https://contoso.service.signalr.net/");
    check_urls("Endpoint=http://localhost;Port=8888;AccessKey=K;Version=1.0;",
               "http://localhost:8888/", "http://localhost:8888/",
               "http://localhost/");
    check_urls("Endpoint=http://localhost;AccessKey=K;"
               "ClientEndpoint=https://remote",
               "https://remote/", "http://localhost/", "http://localhost/");
    check_urls("Endpoint=http://localhost;AccessKey=K;"
               "ServerEndpoint=https://Internal:8443/gw/",
               "http://localhost/", "https://internal:8443/gw/",
               "http://localhost/");
}


static void
test_grammar(void)
{
    /* keys case-insensitive, trimmed; values keep '=' and case */
    CHECK_INT(parse(" endpoint = HTTPS://X.Example.COM/// ; accesskey = "
                    "ab=CD== ;;"), 0);
    CHECK_STR(cs.access_key, "ab=CD==");
    CHECK_INT(cs.access_key_len, 7);
    CHECK_STR(cs.client_base, "https://x.example.com/");
    CHECK_STR(cs.host, "x.example.com");

    /* pieces without '=' are skipped; unknown keys ignored */
    CHECK_INT(parse("Endpoint=https://x;AccessKey=k;junk;Foo=bar;"), 0);

    /* default ports dropped, others kept; Port replaces the port */
    check_urls("Endpoint=https://x:443;AccessKey=k", "https://x/",
               "https://x/", "https://x/");
    check_urls("Endpoint=http://x:80;AccessKey=k", "http://x/", "http://x/",
               "http://x/");
    check_urls("Endpoint=http://x:81;AccessKey=k;Port=443", "http://x:443/",
               "http://x:443/", "http://x/");
    check_urls("Endpoint=https://x;AccessKey=k;Port=443", "https://x/",
               "https://x/", "https://x/");
    check_urls("Endpoint=http://[::1]:8080;AccessKey=k", "http://[::1]:8080/",
               "http://[::1]:8080/", "http://[::1]/");

    /* versions */
    CHECK_INT(parse("Endpoint=https://x;AccessKey=k;Version=1.1-preview"), 0);
    CHECK_INT(parse("Endpoint=https://x;AccessKey=k;Version=1.10"), 0);
}


static void
test_errors(void)
{
    check_error("Endpoint=https://x", "fewer than two properties");
    check_error("", "fewer than two properties");
    check_error("AccessKey=SECRETKEY;Version=1.0", "Endpoint is missing");
    check_error("Endpoint=https://x;Version=1.0", "AccessKey is missing");
    check_error("Endpoint=https://x;AccessKey=;Version=1.0",
                "AccessKey is empty");
    check_error("Endpoint=https://x;endpoint=https://y;AccessKey=SECRETKEY",
                "duplicate property \"Endpoint\"");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;ACCESSKEY=SECRETKEY",
                "duplicate property \"AccessKey\"");
    check_error("Endpoint=ftp://x;AccessKey=SECRETKEY",
                "Endpoint \"ftp://x\" is not an absolute http");
    check_error("Endpoint=x.service.signalr.net;AccessKey=SECRETKEY",
                "is not an absolute http");
    check_error("Endpoint=https://;AccessKey=SECRETKEY",
                "is not an absolute http");
    check_error("Endpoint=https://u:p@x;AccessKey=SECRETKEY",
                "is not an absolute http");
    check_error("Endpoint=https://x/?a=b;AccessKey=SECRETKEY",
                "is not an absolute http");
    check_error("Endpoint=https://x:0;AccessKey=SECRETKEY",
                "is not an absolute http");
    check_error("Endpoint=https://x:70000;AccessKey=SECRETKEY",
                "is not an absolute http");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;Version=2.0",
                "Version \"2.0\" is not supported");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;Version=abc",
                "Version \"abc\" is not supported");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;Version=1.x",
                "Version \"1.x\" is not supported");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;Port=0",
                "Port \"0\" is invalid");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;Port=2.3",
                "Port \"2.3\" is invalid");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;Port=1000000",
                "Port \"1000000\" is invalid");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;Port=-1",
                "Port \"-1\" is invalid");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;ClientEndpoint=gw",
                "ClientEndpoint \"gw\" is not an absolute http");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;"
                "ServerEndpoint=https://a b", "ServerEndpoint");
    /* Entra ID: test_auth_type() */

    /* a missing ';' must not put the key into the message */
    check_error("Endpoint=https://x AccessKey=SECRETKEY;AccessKey=k",
                "Endpoint \"(hidden: "
                "it contains \"=\", is a \";\" missing?)\" is not an absolute");
    check_error("Endpoint=https://x;AccessKey=k;Version=1.0 AccessKey=SECRETKEY",
                "Version \"(hidden: it contains \"=\"");
    check_error("Endpoint=https://x;AccessKey=k;Port=1 AccessKey=SECRETKEY",
                "Port \"(hidden");
    check_error("Endpoint=https://x;AccessKey=k;AuthType=aad AccessKey=SECRETKEY",
                "AuthType \"(hidden");
    check_error("Endpoint=https://x;AuthType=azure.app;TenantId=t;"
                "ClientId=a ClientSecret=SECRETKEY;ClientSecret=s",
                "ClientId \"(hidden");
}


/*
 * AuthType (ConnectionStringParser.cs): the SDK's values in any case, its
 * messages for what azure.app lacks, in its order (clientId, tenantId,
 * clientSecret); aad as azure.app with a secret, else as azure.msi; azure
 * takes nothing from the string
 */

static void
test_auth_type(void)
{
    CHECK_INT(parse("Endpoint=https://x;AccessKey=k"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_KEY);
    CHECK(cs.client_id == NULL && cs.tenant_id == NULL);

    CHECK_INT(parse("Endpoint=https://x.service.signalr.net;"
                    "AuthType=azure.msi;Version=1.0;"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_MSI);
    CHECK(cs.access_key == NULL && cs.client_id == NULL);
    CHECK_STR(cs.server_base, "https://x.service.signalr.net/");

    CHECK_INT(parse("Endpoint=https://x;AuthType=Azure.MSI;"
                    "ClientId=0c2b7b1e-5f4a-4c8e-9d9b-2f1a3e4d5c6b"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_MSI);
    CHECK_STR(cs.client_id, "0c2b7b1e-5f4a-4c8e-9d9b-2f1a3e4d5c6b");
    CHECK(cs.tenant_id == NULL && cs.client_secret == NULL);

    CHECK_INT(parse("Endpoint=https://x;AuthType=azure.app;ClientId=app;"
                    "TenantId=contoso.onmicrosoft.com;ClientSecret=s3=;x~"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_APP);
    CHECK_STR(cs.client_id, "app");
    CHECK_STR(cs.tenant_id, "contoso.onmicrosoft.com");
    CHECK_STR(cs.client_secret, "s3=");
    CHECK_INT((int) cs.client_secret_len, 3);

    /* azure: DefaultAzureCredential, the string's ids ignored */
    CHECK_INT(parse("Endpoint=https://x;AuthType=azure;ClientId=a;"
                    "TenantId=t;ClientSecret=s"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_AZURE);
    CHECK(cs.client_id == NULL && cs.tenant_id == NULL
          && cs.client_secret == NULL);

    /* aad: the SDK's older form */
    CHECK_INT(parse("Endpoint=https://x;AuthType=aad"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_MSI);
    CHECK_INT(parse("Endpoint=https://x;AuthType=AAD;ClientId=c"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_MSI);
    CHECK_STR(cs.client_id, "c");
    CHECK_INT(parse("Endpoint=https://x;AuthType=aad;ClientId=c;TenantId=t;"
                    "ClientSecret=s"), 0);
    CHECK_INT(cs.auth, SIGNALR_AUTH_APP);
    check_error("Endpoint=https://x;AuthType=aad;ClientId=c;TenantId=t",
                "Connection string missing required properties clientSecret "
                "or clientCert.");

    check_error("Endpoint=https://x;AuthType=azure.app",
                "Connection string missing required properties clientId.");
    check_error("Endpoint=https://x;AuthType=azure.app;ClientSecret=SECRETKEY;"
                "TenantId=t",
                "Connection string missing required properties clientId.");
    check_error("Endpoint=https://x;AuthType=azure.app;ClientId=c;"
                "ClientSecret=SECRETKEY",
                "Connection string missing required properties tenantId.");
    check_error("Endpoint=https://x;AuthType=azure.app;ClientId=c;TenantId=t",
                "Connection string missing required properties clientSecret "
                "or clientCert.");
    check_error("Endpoint=https://x;AuthType=azure.app;ClientId=c;TenantId=t;"
                "ClientSecret=",
                "missing required properties clientSecret");
    check_error("Endpoint=https://x;AuthType=azure.app;ClientId=c;TenantId=t;"
                "ClientCert=/etc/cert.pem",
                "ClientCert is not supported");
    check_error("Endpoint=https://x;AuthType=azure.app;ClientId=c;TenantId=t;"
                "ClientSecret=SECRET\001KEY",
                "ClientSecret holds a control character");

    check_error("Endpoint=https://x;AuthType=azure.msi;ClientId=a/b",
                "ClientId \"a/b\" is invalid");
    check_error("Endpoint=https://x;AuthType=azure.app;ClientId=c;"
                "TenantId=t?x;ClientSecret=SECRETKEY",
                "TenantId \"t?x\" is invalid");
    check_error("Endpoint=https://x;AuthType=azure.msi;ClientId=",
                "ClientId \"\" is invalid");

    check_error("Endpoint=https://x;AuthType=managedidentity",
                "AuthType \"managedidentity\" is not supported: azure.msi, "
                "azure.app, azure or aad expected");
    check_error("Endpoint=https://x;AccessKey=SECRETKEY;AuthType=azure.msi",
                "AccessKey and AuthType together");
    check_error("AuthType=azure.msi;ClientId=c", "Endpoint is missing");
}


int
main(void)
{
    UNIT_RUN(test_worked_examples);
    UNIT_RUN(test_grammar);
    UNIT_RUN(test_errors);
    UNIT_RUN(test_auth_type);

    signalr_connstr_free(&cs);

    return unit_report();
}
