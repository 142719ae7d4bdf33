'use strict';
// GET /api/hubs/{hub}/groups/{group}/connections (2024-12-01): the group's
// members in pages of maxpagesize, at most top of them, nextLink to follow.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator, rest, hubClient, waitFor, restToken, request } = require('./helpers');

const V = 'api-version=2024-12-01';
const listPath = (group, hub = 'chat') => `/api/hubs/${hub}/groups/${encodeURIComponent(group)}/connections`;
const list = (emulator, group, query = '', hub) => rest(emulator, 'GET', `${listPath(group, hub)}?${query}${query ? '&' : ''}${V}`);

// The page's JSON; checks the status and the answer's shape.
function page(r) {
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/json/);
  const body = JSON.parse(r.body);
  assert.deepEqual(Object.keys(body).filter((k) => k !== 'nextLink'), ['value']);
  assert.ok(Array.isArray(body.value));
  return body;
}

// Follows nextLink (an absolute URL on the emulator) with a token for it.
async function follow(emulator, nextLink) {
  const url = new URL(nextLink);
  assert.equal(url.origin, `http://127.0.0.1:${emulator.port}`);
  return rest(emulator, 'GET', `${url.pathname}${url.search}`);
}

// Every member, following nextLink; returns the pages.
async function allPages(emulator, first) {
  const pages = [page(first)];
  while (pages.at(-1).nextLink) pages.push(page(await follow(emulator, pages.at(-1).nextLink)));
  return pages;
}

async function members(t, emulator, group, users, { hub = 'chat' } = {}) {
  const clients = [];
  for (const user of users) {
    const c = await hubClient(t, emulator, { hub, user });
    const r = await rest(emulator, 'PUT', `/api/hubs/${hub}/groups/${encodeURIComponent(group)}/connections/${c.id}?${V}`);
    assert.equal(r.status, 200);
    clients.push({ ...c, user });
  }
  return clients;
}

const expected = (clients) => clients
  .map((c) => ({ connectionId: c.id, ...(c.user === undefined ? {} : { userId: c.user }) }))
  .sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1));

test('list: one page, several pages, top', { timeout: 30000 }, async (t) => {
  const emulator = await startEmulator(t);
  const clients = await members(t, emulator, 'g', ['u1', 'u2', undefined, 'u1', 'u3']);
  await members(t, emulator, 'other', ['x']);
  const all = expected(clients);

  await t.test('default: everyone, ordered by connection id, no nextLink', async () => {
    assert.deepEqual(page(await list(emulator, 'g')), { value: all });
  });
  await t.test('maxpagesize 2: three pages', async () => {
    const pages = await allPages(emulator, await list(emulator, 'g', 'maxpagesize=2'));
    assert.deepEqual(pages.map((p) => p.value.length), [2, 2, 1]);
    assert.deepEqual(pages.flatMap((p) => p.value), all);
    const next = new URL(pages[0].nextLink);
    assert.equal(next.pathname, listPath('g'));
    assert.deepEqual([...next.searchParams.keys()], ['maxpagesize', 'continuationToken', 'api-version']);
    assert.equal(next.searchParams.get('maxpagesize'), '2');
    assert.equal(next.searchParams.get('api-version'), '2024-12-01');
  });
  await t.test('maxpagesize equal to the count: no nextLink', async () => {
    assert.deepEqual(page(await list(emulator, 'g', 'maxpagesize=5')), { value: all });
    assert.deepEqual(page(await list(emulator, 'g', 'maxpagesize=200')), { value: all });
  });
  await t.test('top 3 in pages of 2', async () => {
    const pages = await allPages(emulator, await list(emulator, 'g', 'top=3&maxpagesize=2'));
    assert.deepEqual(pages.map((p) => p.value.length), [2, 1]);
    assert.deepEqual(pages.flatMap((p) => p.value), all.slice(0, 3));
    const next = new URL(pages[0].nextLink);
    assert.deepEqual([...next.searchParams.keys()], ['top', 'maxpagesize', 'continuationToken', 'api-version']);
    assert.equal(next.searchParams.get('top'), '3', 'the caller\'s top, as in the example');
  });
  await t.test('top alone, and top at a page boundary', async () => {
    assert.deepEqual(page(await list(emulator, 'g', 'top=2')), { value: all.slice(0, 2) });
    assert.deepEqual(page(await list(emulator, 'g', 'top=4&maxpagesize=2')).value, all.slice(0, 2));
    const pages = await allPages(emulator, await list(emulator, 'g', 'top=4&maxpagesize=2'));
    assert.deepEqual(pages.map((p) => p.value.length), [2, 2]);
    assert.deepEqual(page(await list(emulator, 'g', 'top=2147483647')), { value: all });
  });
  await t.test('an empty or unknown group: no members', async () => {
    assert.deepEqual(page(await list(emulator, 'nobody-here')), { value: [] });
    assert.deepEqual(page(await list(emulator, 'nobody-here', 'maxpagesize=1&top=1')), { value: [] });
  });
  await t.test('the group of another hub is another group', async () => {
    assert.deepEqual(page(await list(emulator, 'g', '', 'other')), { value: [] });
    assert.deepEqual(page(await list(emulator, 'g', '', 'CHAT')), { value: all }, 'hub names are not case-sensitive');
  });
});

test('list: members that come and go between pages', { timeout: 30000 }, async (t) => {
  const emulator = await startEmulator(t);
  const clients = await members(t, emulator, 'g', ['a', 'b', 'c', 'd']);
  const sorted = expected(clients);
  const first = page(await list(emulator, 'g', 'maxpagesize=2'));
  assert.deepEqual(first.value, sorted.slice(0, 2));
  // the third leaves, a newcomer joins: the next page goes on after the
  // last id of the first page, without repeats
  const third = clients.find((c) => c.id === sorted[2].connectionId);
  await third.connection.stop();
  await waitFor(async () => (await rest(emulator, 'HEAD', `/api/hubs/chat/connections/${third.id}?${V}`)).status === 404, 'the leave');
  const [newcomer] = await members(t, emulator, 'g', ['e']);
  const rest2 = await allPages(emulator, await follow(emulator, first.nextLink));
  const seen = rest2.flatMap((p) => p.value);
  const after = sorted[1].connectionId;
  assert.deepEqual(seen, expected([...clients.filter((c) => c !== third), newcomer]).filter((m) => m.connectionId > after));
});

test('list: application, and group names that need escaping', { timeout: 20000 }, async (t) => {
  const emulator = await startEmulator(t);
  const clients = await members(t, emulator, 'a b/c?d', ['u', 'v', 'w'], { hub: 'app_chat' });
  const query = 'application=App&maxpagesize=1';
  const pages = await allPages(emulator, await list(emulator, 'a b/c?d', query));
  assert.deepEqual(pages.flatMap((p) => p.value), expected(clients));
  const next = new URL(pages[0].nextLink);
  assert.equal(next.pathname, '/api/hubs/chat/groups/a%20b%2Fc%3Fd/connections', 'the path as it was sent');
  assert.deepEqual([...next.searchParams.keys()], ['application', 'maxpagesize', 'continuationToken', 'api-version']);
  assert.equal(next.searchParams.get('application'), 'App');
  // without the application it is another hub
  assert.deepEqual(page(await list(emulator, 'a b/c?d')), { value: [] });
});

test('list: nextLink uses the Host the caller sent', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  await members(t, emulator, 'g', ['a', 'b']);
  const path = `${listPath('g')}?maxpagesize=1&${V}`;
  const token = restToken(listPath('g'), { aud: `http://127.0.0.1${listPath('g')}` });
  const r = await request(emulator.port, 'GET', path, { headers: { Authorization: `Bearer ${token}`, Host: 'signalr.example:8080' } });
  assert.match(page(r).nextLink, /^http:\/\/signalr\.example:8080\/api\/hubs\/chat\/groups\/g\/connections\?maxpagesize=1&continuationToken=[\w-]+&api-version=2024-12-01$/);
});

test('list: the SDK form of the audience has api-version only: paging parameters are not part of it', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const clients = await members(t, emulator, 'g', ['a', 'b', 'c']);
  const sdk = `http://127.0.0.1${listPath('g')}?${V}`;
  const get = (query, aud) => request(emulator.port, 'GET', `${listPath('g')}?${query}`,
    { headers: { Authorization: `Bearer ${restToken(listPath('g'), { aud })}` } });
  // the first page and the pages of nextLink, each with the SDK form
  const pages = [page(await get(`${V}&maxpagesize=2`, sdk))];
  const next = new URL(pages[0].nextLink);
  assert.equal(next.search, `?maxpagesize=2&continuationToken=${next.searchParams.get('continuationToken')}&${V}`);
  pages.push(page(await get(next.search.slice(1), sdk)));
  assert.equal(pages[1].nextLink, undefined);
  assert.deepEqual(pages.flatMap((p) => p.value), expected(clients));
  assert.equal(page(await get(`top=1&${V}`, sdk)).value.length, 1);
  // as with excluded, an audience that has them is not the SDK's
  assert.equal((await get(`${V}&maxpagesize=2`, `${sdk}&maxpagesize=2`)).status, 401);
  assert.equal((await get(`${V}&maxpagesize=2`, `http://127.0.0.1${listPath('g')}?api-version=2022-06-01`)).status, 401);
});

test('list: bad parameters are 400 Error.Request.Invalid', { timeout: 20000 }, async (t) => {
  const emulator = await startEmulator(t);
  await members(t, emulator, 'g', ['a', 'b', 'c']);
  const token = new URL(page(await list(emulator, 'g', 'maxpagesize=1')).nextLink).searchParams.get('continuationToken');
  const tokenAfterTwo = new URL(page(await follow(emulator, page(await list(emulator, 'g', 'maxpagesize=1')).nextLink)).nextLink)
    .searchParams.get('continuationToken');
  const invalid = async (query, target, { group = 'g', hub } = {}) => {
    const r = await list(emulator, group, query, hub);
    assert.equal(r.status, 400, `${query}: ${r.body}`);
    assert.equal(r.headers['x-ms-error-code'], 'Error.Request.Invalid');
    const body = JSON.parse(r.body);
    assert.equal(body.code, 'Error.Request.Invalid');
    assert.equal(body.target, target, query);
  };
  for (const v of ['0', '201', '-1', '1.5', 'x', '', '+2', ' 2', '99999999999']) await invalid(`maxpagesize=${encodeURIComponent(v)}`, 'maxpagesize');
  for (const v of ['0', '2147483648', '-3', 'x', '', '1e3']) await invalid(`top=${encodeURIComponent(v)}`, 'top');
  const forged = Buffer.from('1:nope:x').toString('base64url');
  for (const v of ['', 'not a token', '!!', 'AAAA', Buffer.from('x:abc').toString('base64url'), `${token}=`, `${token}A`]) {
    await invalid(`continuationToken=${encodeURIComponent(v)}`, 'continuationToken');
  }
  assert.equal((await list(emulator, 'g', `continuationToken=${forged}`)).status, 200, 'a well-formed token naming no member');
  // a token that already returned top members
  await invalid(`top=1&continuationToken=${token}`, 'continuationToken');
  await invalid(`top=2&continuationToken=${tokenAfterTwo}`, 'continuationToken');
  assert.equal(page(await list(emulator, 'g', `top=3&continuationToken=${tokenAfterTwo}`)).value.length, 1);
  await invalid('', 'group', { group: '  ' });
  await invalid('', 'group', { group: 'g'.repeat(1025) });
  await invalid('', 'hub', { hub: '9chat' });
  // the api-version: 2024-12-01 or later (V20230701.json has no such route)
  for (const version of ['2022-06-01', '2023-07-01', '2024-11-30-preview']) {
    const r = await rest(emulator, 'GET', `${listPath('g')}?api-version=${version}`);
    assert.equal(r.status, 400, version);
    assert.equal(JSON.parse(r.body).target, 'api-version');
  }
  assert.equal((await rest(emulator, 'GET', listPath('g'))).status, 400, 'no api-version');
  assert.equal((await rest(emulator, 'GET', `${listPath('g')}?api-version=2025-01-01`)).status, 200);
  const head = await rest(emulator, 'HEAD', `${listPath('g')}?${V}`);
  assert.equal(head.status, 405);
  assert.equal(head.headers.allow, 'GET');
});
