import { describe, expect, it } from 'vitest';
import { escapeHtml, renderEmail, renderLine, renderPush } from '../../src/domain/render.ts';
import { Category, type DeliveryJob } from '../../src/domain/types.ts';

function job(type: string, category: Category, overrides: Partial<DeliveryJob> = {}): DeliveryJob {
  return {
    tenantId: 'acme',
    userId: 'alice',
    notificationId: '01JS0000000000000000000000',
    channel: 'push',
    eventId: 'e1',
    type,
    category,
    actorId: 'bob',
    objectId: 'post-1',
    createdAt: Date.parse('2026-01-15T12:00:00Z'),
    ...overrides,
  };
}

describe('renderPush', () => {
  it.each([
    ['post', 'content', 'New post', 'bob posted'],
    ['like', 'social', 'New like', 'bob liked your post'],
    ['comment', 'social', 'New comment', 'bob commented on your post'],
    ['mention', 'mention', 'You were mentioned', 'bob mentioned you'],
    ['follow', 'social', 'New follower', 'bob started following you'],
    ['critical.outage', 'critical', 'Important notice', 'Important: outage'],
    ['security.new_login', 'critical', 'Important notice', 'Important: new login'],
    ['badge.gold-star', 'social', 'New activity', 'bob: badge gold star'],
  ] as const)('renders %s as %j / %j', (type, category, title, body) => {
    expect(renderPush(job(type, category))).toEqual({ title, body });
  });

  it('never renders the event’s data', () => {
    // Prepare
    const secret = job('comment', 'social', { data: { text: 'my secret diary' } });
    // Act
    const push = renderPush(secret);
    const email = renderEmail(secret);
    // Assess
    expect(JSON.stringify([push, email])).not.toContain('secret diary');
  });

  it('cuts a long body to 178 characters, ending in an ellipsis', () => {
    // Prepare
    const longActor = 'b'.repeat(200);
    // Act
    const { body } = renderPush(job('post', 'content', { actorId: longActor }));
    // Assess
    expect(body).toHaveLength(178);
    expect(body.endsWith('…')).toBe(true);
    expect(body.startsWith('bbb')).toBe(true);
  });

  it('never splits a surrogate pair when cutting', () => {
    // Prepare: the cut falls right after the first half of an emoji.
    const actor = `${'b'.repeat(176)}😀😀`;
    // Act
    const { body } = renderPush(job('post', 'content', { actorId: actor }));
    // Assess
    expect(body).toBe(`${'b'.repeat(176)}…`);
    expect(body.isWellFormed()).toBe(true);
  });

  it('turns line breaks and control characters in ids into spaces', () => {
    // Act
    const { body } = renderPush(job('follow', 'social', { actorId: 'bob\r\nX-Injected: 1\u0000' }));
    // Assess
    expect(body).toBe('bob  X-Injected: 1  started following you');
  });
});

describe('renderEmail', () => {
  it('renders subject, text and html of a comment, in English by default', () => {
    // Act
    const email = renderEmail(job('comment', 'social', { channel: 'email' }));
    // Assess
    expect(email.locale).toBe('en');
    expect(email.subject).toBe('bob commented on your post');
    expect(email.text).toBe(
      'bob commented on your post\n\nOpen the app to see it.\n\n-- \n' +
        'You get this email because “Social” emails are on for your account.\n' +
        'Manage your preferences in the app.\n',
    );
    expect(email.html).toMatch(/<h1 [^>]*>New comment<\/h1>/);
    expect(email.html).toMatch(/<p [^>]*>bob commented on your post<\/p>/);
    expect(email.html).toContain('<html lang="en" dir="ltr">');
  });

  it('shows the unsubscribe link in both parts only when given one', () => {
    // Prepare
    const url = 'https://notify.example.com/v1/unsubscribe?token=abc.def';
    // Act
    const withLink = renderEmail(job('like', 'social'), { unsubscribeUrl: url });
    const without = renderEmail(job('like', 'social'));
    // Assess
    expect(withLink.text).toContain(`\nUnsubscribe from “Social” emails\n${url}\n`);
    expect(withLink.html).toContain(`<a href="${url}" `);
    expect(withLink.html).toContain('>Unsubscribe from “Social” emails</a>');
    expect(without.text).not.toContain('Unsubscribe');
    expect(without.html).not.toContain('<a ');
  });

  it('escapes the unsubscribe URL in the href and keeps line breaks out of the text part', () => {
    // Act
    const { html, text } = renderEmail(job('like', 'social'), {
      unsubscribeUrl: 'https://x.example/u?a=1&b="2"\r\nBcc: x',
    });
    // Assess
    expect(html).toContain('href="https://x.example/u?a=1&amp;b=&quot;2&quot;  Bcc: x"');
    expect(text).not.toMatch(/\r/);
    expect(text).toContain('emails\nhttps://x.example/u?a=1&b="2"  Bcc: x\n');
  });

  it('shows no link for an unsubscribe URL that is not http(s)', () => {
    // Act
    const { html, text } = renderEmail(job('like', 'social'), { unsubscribeUrl: 'javascript:alert(1)' });
    // Assess
    expect(html).not.toContain('javascript:');
    expect(text).not.toContain('javascript:');
  });

  it('escapes every interpolated value in the html', () => {
    // Prepare
    const actor = `<script>alert("x")</script>&'`;
    // Act
    const { html, text } = renderEmail(job('mention', 'mention', { actorId: actor }));
    // Assess
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39; mentioned you');
    expect(text).toContain(actor);
  });

  it('escapes the type of an unknown or critical notification too', () => {
    // Act
    const fallback = renderEmail(job('x<b>', 'social'));
    const critical = renderEmail(job('critical.<i>', 'critical'));
    // Assess
    expect(fallback.html).toContain('bob: x&lt;b&gt;');
    expect(critical.html).toContain('Important: &lt;i&gt;');
  });

  it('keeps the subject on one line and within 120 characters', () => {
    // Act
    const { subject } = renderEmail(job('like', 'social', { actorId: `a\nb${'c'.repeat(300)}` }));
    // Assess
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toHaveLength(120);
  });

  it('names an otherwise empty type as an update', () => {
    expect(renderEmail(job('...', 'social')).subject).toBe('bob: update');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters and nothing else', () => {
    expect(escapeHtml(`a&b<c>d"e'f é`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f é');
  });
});

describe('renderLine: an aggregated item names its actors in the user language', () => {
  const like = { type: 'like', actorId: 'ana', category: Category.Social } as const;
  it('names up to three, then two and the exact count of the others, in each locale', () => {
    const many = { actors: ['ana', 'bo', 'cy'], actorCount: 15_000 };
    expect(renderLine(like, 'en', many).line).toBe('ana, bo, and 14,998 others liked your post');
    expect(renderLine(like, 'fr', many).line).toBe(
      'ana, bo et 14\u202f998\u00a0autres personnes ont aimé votre publication',
    );
    expect(renderLine(like, 'de', many).line).toBe(
      'ana, bo und 14.998 weitere Personen gefällt dein Beitrag',
    );
    expect(renderLine(like, 'es', many).line).toBe(
      'A ana, bo y 14.998 personas más les gustó tu publicación',
    );
    expect(renderLine(like, 'pt-BR', many).line).toBe(
      'ana, bo e mais 14.998 pessoas curtiram sua publicação',
    );
    expect(renderLine(like, 'ja', many).line).toBe(
      'anaさん、boさん、他14,998人があなたの投稿にいいね！しました',
    );
    expect(renderLine(like, 'en', { actors: ['ana', 'bo', 'cy'], actorCount: 3 }).line).toBe(
      'ana, bo, and cy liked your post',
    );
    expect(renderLine(like, 'fr', { actors: ['ana', 'bo'], actorCount: 2 }).line).toBe(
      'ana et bo ont aimé votre publication',
    );
  });
  it('uses the single form for one actor, and counts actors the summary does not name', () => {
    expect(renderLine(like, 'fr', { actors: ['ana'], actorCount: 1 }).line).toBe(
      'ana a aimé votre publication',
    );
    expect(renderLine(like, 'en').line).toBe('ana liked your post');
    expect(renderLine(like, 'en', { actors: ['ana'], actorCount: 4 }).line).toBe(
      'ana and 3 others liked your post',
    );
    expect(renderLine(like, 'en', { actors: ['ana', 'bo'], actorCount: 3 }).line).toBe(
      'ana, bo, and 1 other liked your post',
    );
  });
  it('cleans control characters out of actor ids in a list, and the push cuts the long sentence', () => {
    const group = { actors: ['a\nb', 'bo'], actorCount: 2 };
    expect(renderLine(like, 'en', group).line).toBe('a b and bo liked your post');
    const job = { ...like, actorId: 'x'.repeat(100) };
    const push = renderPush(job as never, 'en', {
      actors: ['x'.repeat(100), 'y'.repeat(100)],
      actorCount: 9,
    });
    expect(push.body.length).toBeLessThanOrEqual(178);
    expect(push.body.endsWith('…')).toBe(true);
  });
});
