// The cases of node-smsc's own test suite (github.com/rmdm/node-smsc, test/calls/*.spec.js,
// written against smsc.ru), run with the node-smsc 0.2.3 installed from the npm registry
// against a Tidings server. The npm package ships without its tests (.npmignore drops
// test/), so each case is restated here: the same calls with the same parameters and the
// same checks, named as in the suite. tests/e2e/test_node_smsc.py runs this file and says
// which cases must fail (features docs/api.md lists as not provided) and with which error.
//
// One difference from the suite: its setup and cleanup hooks (create a contact before,
// delete the message after…) do not abort the cases that follow when they fail — a failing
// mocha hook skips every later case of its block, which would hide whether those cases pass.
// Each hook failure is recorded instead (HOOK_LOG) and checked by the Python test as well.
//
// Environment: SMSC_URL (…/sys/), SMSC_LOGIN, SMSC_PASSWORD, SMSC_PHONE, SMSC_EMAIL,
// HOOK_LOG (a file for the hook failures, JSON).

'use strict'

var assert = require('assert')
var fs = require('fs')
var os = require('os')
var path = require('path')
var FormData = require('form-data')

var smsc = require('node-smsc')({
    request: process.env.SMSC_URL,
    login: process.env.SMSC_LOGIN,
    password: process.env.SMSC_PASSWORD,
})
var phone = process.env.SMSC_PHONE
var email = process.env.SMSC_EMAIL

var hookFailures = []

// A suite hook whose failure is recorded rather than thrown (see above).
function hook (name, step) {
    return function () {
        return Promise.resolve()
            .then(step)
            .then(null, function (err) {
                hookFailures.push({
                    hook: name,
                    message: err && err.message,
                    response: err && err.response,
                })
            })
    }
}

// The suite attaches a small JPEG (test/fixtures/redsquare.jpg); any file will do here.
var picture = path.join(os.tmpdir(), 'tidings-node-smsc-' + process.pid + '.jpg')
fs.writeFileSync(picture, Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex'))

after(function () {
    fs.writeFileSync(process.env.HOOK_LOG, JSON.stringify(hookFailures))
    fs.unlinkSync(picture)
})

function byId (items, id) {
    for (var i = 0; i < items.length; i++) {
        if (items[i].id == id) { return items[i] }
    }
    return null
}

// 'tsup?' repeated to about 5 × 140 characters: five parts.
function longMessage () {
    return new Array(140 * 5 / 'tsup?'.length + 'tsup?'.length).join('tsup?')
}

describe('balance api call', function () {

    it('allows to check balance of a client', function () {
        return smsc.balance().then(function (response) {
            assert(response.balance)
        })
    })

})

describe('get api call', function () {

    it('allows to get history of messages', function () {
        return smsc.get({ get_messages: 1, phone: phone }).then(function (response) {
            assert(Array.isArray(response))
        })
    })

    it('allows to get list of incoming messages', function () {
        return smsc.get({ get_answers: 1 }).then(function (response) {
            assert(Array.isArray(response))
        })
    })

    it('allows to get statistics of outgoing messages', function () {
        return smsc.get({ get_stat: 1 }).then(function (response) {
            assert(Array.isArray(response))
        })
    })

    it('allows to get megaphone account statistics', function () {
        return smsc.get({ get_mega_accounts: 1 }).then(function (response) {
            assert(Array.isArray(response))
        })
    })

    it('allows to get list of current client tariffs', function () {
        return smsc.get({ get_price: 1 }).then(function (response) {
            assert(Array.isArray(response.zones))
        })
    })

})

describe('get_mnp api call', function () {

    it('returns list of mnp ported phone numbers when data parameter was passed', function () {
        var today = new Date()
        var day = ('0' + today.getDate()).slice(-2) + '.' +
            ('0' + (today.getMonth() + 1)).slice(-2) + '.' + today.getFullYear()
        return smsc.get_mnp({ date: day }).then(function (response) {
            assert(Array.isArray(response))
        })
    })

    it('returns a readable stream of .csv file when date parameter was not passed', function () {
        return smsc.get_mnp().then(function (stream) {
            return new Promise(function (resolve, reject) {
                var chunks = []
                stream.on('data', function (chunk) { chunks.push(chunk) })
                stream.once('error', reject)
                stream.once('end', function () { resolve(Buffer.concat(chunks).toString('utf8')) })
            })
        }).then(function (text) {
            // The suite compares the file's first bytes; the text is the message here.
            assert(text.indexOf('Phone;mccmnc') === 0, text)
        })
    })

})

describe('info api call', function () {

    it('allows to get operator info about a phone number', function () {
        return smsc.info({ get_operator: 1, phone: phone }).then(function (response) {
            assert(response.country)
            assert(response.operator)
            assert(response.region)
            assert(response.mcc)
            assert(response.mnc)
            assert(response.tz)
        })
    })

})

describe('jobs api call', function () {

    var jobId

    afterEach(hook('jobs: delete the job', function () {
        return smsc.jobs({ del: 1, id: jobId })
    }))

    function created (response) {
        assert(response.id)
        jobId = response.id
    }

    it('creates a job', function () {
        return smsc.jobs({ add: 1, name: 'Тестовая рассылка', phones: phone, mes: 'hello!' })
            .then(created)
    })

    it('allows to cancel a job', function () {
        return smsc.jobs({ add: 1, name: 'Тестовая рассылка', phones: phone, mes: 'hi!' })
            .then(created)
            .then(function () { return smsc.jobs({ cancel: 1, id: jobId }) })
            .then(function (response) { assert.equal(response.result, 'OK') })
    })

    it('allows to set id on message', function () {
        return smsc.jobs({
            add: 1, name: 'Тестовая рассылка', phones: phone, mes: 'how are you?', id: 10,
        }).then(created)
    })

    it('splits message in parts if it is big', function () {
        return smsc.jobs({ add: 1, name: 'Тестовая рассылка', phones: phone, mes: longMessage() })
            .then(created)
    })

    it('allows to send mms messages', function () {
        var form = new FormData()
        form.append('redsquare', fs.createReadStream(picture))
        return smsc.jobs(
            { add: 1, name: 'Тестовая рассылка', phones: phone, mms: 1, mes: 'that\'s me!' },
            { request: { method: 'POST', headers: form.getHeaders() }, requestBodyStream: form }
        ).then(created)
    })

    // Skipped in the suite: smsc.ru's test mode does not cover e-mail (it would be paid).
    it.skip('allows to send email messages', function () {})

    it('allows to use a template instead of a message', function () {
        return smsc.templates({
            add: 1, name: 'job-template', msg: 'Text of the job template.', format: 'sms',
        }).then(function (template) {
            return smsc.jobs({
                add: 1, name: 'Шаблонная рассылка', phones: phone, tpl: template.id,
            })
        }).then(created)
    })

})

describe('phones api call', function () {

    var contactPhone = '11111111111'
    var otherPhone = '99999999999'

    function addContact (number, name) {
        return smsc.phones({ add: 1, phone: number, name: name })
    }

    function dropContact (number) {
        return smsc.phones({ del: 1, phone: number })
    }

    context('contact-related functionality', function () {

        context('creation', function () {

            afterEach(hook('phones: drop the new contact', function () {
                return dropContact(contactPhone)
            }))

            it('allows to create new contact', function () {
                return addContact(contactPhone, 'Contact From Test').then(function (response) {
                    assert(response.id)
                })
            })

        })

        context('manipulation', function () {

            var currentPhone

            before(hook('phones: add the contact', function () {
                return addContact(contactPhone, 'Contact From Test')
            }))

            after(hook('phones: drop the contact', function () {
                return dropContact(currentPhone)
            }))

            it('allows to add a contact to a blacklist', function () {
                return smsc.phones({ add_black: 1, phone: contactPhone }).then(function (response) {
                    assert(response.id)
                    currentPhone = contactPhone
                })
            })

            it('allows to remove a contact from a blacklist', function () {
                return smsc.phones({ del_black: 1, phone: contactPhone }).then(function (response) {
                    assert.equal(response.result, 'OK')
                    currentPhone = contactPhone
                })
            })

            it('allows to list contacts', function () {
                return smsc.phones({ get: 1 }).then(function (response) {
                    var contact = response.filter(function (c) { return c.phone === contactPhone })[0] || {}
                    assert.equal(contact.phone, contactPhone)
                    assert.equal(contact.name, 'Contact From Test')
                    currentPhone = contactPhone
                })
            })

            it('allows to change phone number of a contact', function () {
                return smsc.phones({ chg: 1, phone: contactPhone, new_phone: otherPhone })
                    .then(function (response) {
                        assert.equal(response.result, 'OK')
                        currentPhone = otherPhone
                    })
            })

        })

        context('deletion', function () {

            beforeEach(hook('phones: add a contact to drop', function () {
                return addContact(contactPhone, 'Contact From Test')
            }))

            it('allows to drop a contact', function () {
                return dropContact(contactPhone).then(function (response) {
                    assert.equal(response.result, 'OK')
                })
            })

        })

    })

    context('group-related functionality', function () {

        function addGroup () {
            return smsc.phones({ add_group: 1, name: 'Group From Test' })
        }

        function dropGroup (id) {
            return smsc.phones({ del_group: 1, grp: id })
        }

        context('creation', function () {

            var groupId

            afterEach(hook('phones: drop the new group', function () {
                return dropGroup(groupId)
            }))

            it('allows to create new contact group', function () {
                return addGroup().then(function (response) {
                    assert(response.id)
                    groupId = response.id
                })
            })

        })

        context('manipulation', function () {

            var groupId

            before(hook('phones: add the group', function () {
                return addGroup().then(function (response) { groupId = response.id })
            }))

            before(hook('phones: add the two group contacts', function () {
                return addContact(contactPhone, 'Group Contact From Test').then(function () {
                    return addContact(otherPhone, 'Another Group Contact From Test')
                })
            }))

            after(hook('phones: drop the group', function () {
                return dropGroup(groupId)
            }))

            after(hook('phones: drop the two group contacts', function () {
                return dropContact(contactPhone).then(function () {
                    return dropContact(otherPhone)
                })
            }))

            it('allows to list groups', function () {
                return smsc.phones({ get_group: 1 }).then(function (response) {
                    var group = byId(response, groupId) || {}
                    assert.equal(group.id, groupId)
                    assert.equal(group.name, 'Group From Test')
                })
            })

            it('allows to change contact group name', function () {
                return smsc.phones({ chg_group: 1, grp: groupId, name: 'From Test Group' })
                    .then(function (response) { assert.equal(response.result, 'OK') })
            })

            it('allows to add a contact to a group', function () {
                return smsc.phones({ move_group: 1, grp: groupId, phone: contactPhone })
                    .then(function (response) { assert.equal(response.result, 'OK') })
            })

            it('allows to add a group to a contact', function () {
                return smsc.phones({ move_group: 2, grp: groupId, phone: otherPhone })
                    .then(function (response) { assert.equal(response.result, 'OK') })
            })

            it('allows to drop a contact from a group', function () {
                return smsc.phones({ move_group: 3, grp: groupId, phone: contactPhone })
                    .then(function (response) { assert.equal(response.result, 'OK') })
            })

        })

        context('deletion', function () {

            var groupId

            beforeEach(hook('phones: add a group to drop', function () {
                return addGroup().then(function (response) { groupId = response.id })
            }))

            it('allows to drop a group', function () {
                return dropGroup(groupId).then(function (response) {
                    assert.equal(response.result, 'OK')
                })
            })

        })

    })

})

describe('receive_phones api call', function () {

    it('shows list of available dedicated numbers', function () {
        return smsc.receive_phones({ get: 1 }).then(function (response) {
            assert(Array.isArray(response))
        })
    })

})

describe('send api call', function () {

    var messageId

    afterEach(hook('send: delete the message from the history', function () {
        return smsc.status({ del: 1, id: messageId, phone: phone })
    }))

    function sent (parts) {
        return function (response) {
            assert(response.id)
            assert.equal(response.cnt, parts)
            messageId = response.id
        }
    }

    it('sends specific message to specific receivers', function () {
        return smsc.send({ phones: phone, mes: 'hello!' }).then(sent(1))
    })

    it('allows to set id on message', function () {
        return smsc.send({ phones: phone, mes: 'how are you?', id: 10 }).then(function (response) {
            assert.deepEqual(response, { cnt: 1, id: 10 })
            messageId = response.id
        })
    })

    it('splits message in parts if it is big', function () {
        return smsc.send({ phones: phone, mes: longMessage() }).then(sent(5))
    })

    it('allows to send mms messages', function () {
        return smsc.send(
            { phones: phone, mms: 1, mes: 'that\'s me!' },
            { files: [{ field: 'redsquare', value: fs.createReadStream(picture) }] }
        ).then(sent(1))
    })

    it('allows to send email messages', function () {
        return smsc.send(
            { phones: 'mail@example.com', mail: 1, mes: 'that\'s me!<file 1>', subj: 'Me!', sender: email },
            { files: [{ field: 'redsquare', value: fs.createReadStream(picture) }] }
        ).then(sent(1))
    })

})

describe('senders api call', function () {

    it('gets list of registered senders ID', function () {
        return smsc.senders({ get: 1 }).then(function (response) {
            assert(Array.isArray(response))
        })
    })

})

describe('status api call', function () {

    var messageId

    before(hook('status: send a message', function () {
        return smsc.send({ phones: phone, mes: 'ПРОВЕРКА' }).then(function (response) {
            messageId = response.id
        })
    }))

    it('allows to check a message status', function () {
        return smsc.status({ id: messageId, phone: phone }).then(function (response) {
            assert.notEqual(response.status, undefined)
        })
    })

    it('allows to delete a message from messages history', function () {
        return smsc.status({ del: 1, id: messageId, phone: phone }).then(function (response) {
            assert.equal(response.result, 'OK')
        })
    })

})

describe('templates api call', function () {

    var templateId

    before(hook('templates: add the existing template', function () {
        return smsc.templates({
            add: 1, name: 'existing-test-template', msg: 'Text of the existing test template.',
            format: 'sms',
        }).then(function (response) {
            assert(response.id)
            templateId = response.id
        })
    }))

    it('allows to add new message template', function () {
        return smsc.templates({
            add: 1, name: 'test-template', msg: 'Text of the test template.', format: 'sms',
        }).then(function (response) { assert(response.id) })
    })

    it('allows to get list of available templates', function () {
        return smsc.templates({ get: 1 }).then(function (templates) {
            var template = byId(templates, templateId)
            assert.equal(template.name.toLowerCase(), 'existing-test-template')
            assert.equal(template.message, 'Text of the existing test template.')
        })
    })

    it('allows to change a template', function () {
        return smsc.templates({
            chg: 1, id: templateId, msg: 'Changed text of the existing test template.',
        }).then(function () {
            return smsc.templates({ get: 1 })
        }).then(function (templates) {
            assert.equal(byId(templates, templateId).message,
                'Changed text of the existing test template.')
        })
    })

    it('allows to remove a template', function () {
        return smsc.templates({ del: 1, id: templateId }).then(function () {
            return smsc.templates({ get: 1 })
        }).then(function (templates) {
            assert(byId(templates, templateId) == null)
        })
    })

})

// Every case of the suite's users.spec.js is skipped there: smsc.ru cannot delete a
// sub-client, so the cases cannot clean up after themselves.
describe('users api call', function () {

    it.skip('allows to create a subclient', function () {})
    it.skip('allows to change a sublient\'s settings', function () {})
    it.skip('allows to change a subclient\'s balance', function () {})
    it.skip('allows to get a subclient\'s stats', function () {})

})
